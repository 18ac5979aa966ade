"""Validates rendered Kubernetes manifests: the schemas, then qbench's own invariants.

    deploy_check.py --version 1.35 --root REPO RENDERED.yaml...

Each file is one rendered variant (`kubectl kustomize`). Every resource is validated offline against
the Kubernetes JSON schemas that kubernetes-validate bundles, strictly (an unknown field is an
error); a custom resource without a bundled schema (KEDA's ScaledObject) gets a structural check of
our own instead. Then the invariants that keep the manifests true to qbench: probes where a
container serves, requests and limits, no secret written into a manifest, one image tag (the
workspace version), every QBENCH_ variable naming a real setting (config/default.toml), the API
server not running benchmarks, one benchmark per worker, a memory budget below the memory limit,
a grace period that covers a cancelled run. Prints `VARIANTS: Kind/name: problem` for each failure,
once, naming every variant it is found in, and exits 1 when there is any.
"""

import argparse
import re
import sys
import tomllib
from pathlib import Path

import jsonschema
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource

# Settings whose names are in the manifests before qbench reads them: a warning (the worker refuses
# unknown settings at start-up, so these must land in config/default.toml before a release).
PENDING_SETTINGS: set[str] = set()
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|ACCESS_KEY|API_KEY|DATABASE_URL|JWT)", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
SCALED_OBJECT_SPEC = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
    "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
}
# Time a stopping worker needs beyond the cancel grace: drop the collection, record the run.
STOP_MARGIN_MS = 30_000


def quantity(text):
    """A Kubernetes quantity (`8Gi`, `500m`, `2`) as a number of base units."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9,
             "T": 10**12, "m": 10**-3}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    if not match or match.group(2) not in units and match.group(2):
        raise ValueError(f"not a quantity: {text!r}")
    return float(match.group(1)) * units.get(match.group(2), 1)


class Check:
    def __init__(self, root, version):
        self.root = root
        self.version = version
        # Each problem once, with the variants it is found in (the base's show in every overlay).
        self.problems = {}
        self.current = ""
        # The newest bundled schemas not newer than the version asked for, as kubernetes-validate picks.
        self.schema_version = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)][-1]
        self.warnings = set()
        defaults = tomllib.loads((root / "config/default.toml").read_text())
        self.settings = {key for key, value in defaults.items() if not isinstance(value, dict)}
        self.settings |= {f"{section}.{key}" for section, table in defaults.items()
                          if isinstance(table, dict) for key in table}
        self.defaults = defaults
        # secret_key has no default (it is generated when unset), so the file does not list it.
        self.settings.add("secret_key")
        settings_rs = (root / "crates/app/src/settings.rs").read_text()
        table = settings_rs[settings_rs.index("const ENV_ALIASES"):]
        self.aliases = dict(re.findall(r'\("([A-Z_]+)", "([a-z_.]+)"\)', table[:table.index("];")]))
        self.aliases.update({"QBENCH_DATA_DIR": "data_dir", "QBENCH_SECRET_KEY": "secret_key"})
        cargo = tomllib.loads((root / "Cargo.toml").read_text())
        self.version_tag = cargo["workspace"]["package"]["version"]

    def fail(self, where, message):
        self.problems.setdefault((where, message), []).append(self.current)

    # ---- the schemas -----------------------------------------------------------------------

    def schema(self, where, resource):
        # kubernetes_validate.validate stops at the first error; this reports every one, with the
        # same bundled schemas.
        try:
            kv.validate(resource, self.version, strict=True)
        except kv.ValidationError as first:
            schema_dir = f"kubernetes-json-schema/v{self.schema_version}-local-strict"
            api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", resource["apiVersion"])
            schema = kv.schema_contents(f"{schema_dir}/{resource['kind'].lower()}-{api}.json", self.version)
            definitions = kv.schema_contents(f"{schema_dir}/_definitions.json", self.version)
            registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
            validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
            for err in sorted(validator.iter_errors(resource), key=lambda e: list(map(str, e.path))) or [first]:
                path = ".".join(str(item) for item in err.path) or "(top)"
                self.fail(where, f"schema (Kubernetes {first.version}, strict): {path}: {err.message}")
        except kv.SchemaNotFoundError as err:
            if (resource.get("apiVersion"), resource.get("kind")) == ("keda.sh/v1alpha1", "ScaledObject"):
                return
            self.fail(where, f"schema: {err.message}")

    # ---- qbench's invariants ---------------------------------------------------------------

    def setting_of(self, name):
        """The configuration key an environment variable sets, or None when it sets none."""
        if name in self.aliases:
            return self.aliases[name]
        match = re.fullmatch(r"QBENCH_([A-Z_]+?)__([A-Z_]+)", name)
        return f"{match.group(1).lower()}.{match.group(2).lower()}" if match else None

    def env_of(self, container, config_maps):
        """A container's literal environment: its ConfigMaps first, then `env` over them."""
        env = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env.update(config_maps.get(source["configMapRef"]["name"], {}))
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                env[item["name"]] = None
        return env

    def variables(self, where, names_values):
        for name, value in names_values:
            setting = self.setting_of(name)
            if name.startswith("QBENCH_") and setting is None:
                self.fail(where, f"{name} is not QBENCH_<SECTION>__<KEY>")
            elif setting in PENDING_SETTINGS:
                self.warnings.add(f"{name} ({setting}) is not a qbench setting yet (config/default.toml): "
                                  "a worker given it refuses to start until it is")
            elif setting is not None and setting not in self.settings:
                self.fail(where, f"{name} names no setting ({setting} is not in config/default.toml)")
            if value is not None and (SECRET_NAME.search(name) or URL_WITH_PASSWORD.search(str(value))):
                self.fail(where, f"{name} has a literal value: secrets come from a Secret (secretKeyRef)")

    def workload(self, where, resource, config_maps, autoscaled, qbench_images):
        spec = resource["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        selector = spec["selector"].get("matchLabels", {})
        if not selector or any(labels.get(key) != value for key, value in selector.items()):
            self.fail(where, f"selector {selector} does not select its own pod labels {labels}")
        name = resource["metadata"]["name"]
        if resource["kind"] == "Deployment":
            if name in autoscaled and "replicas" in spec:
                self.fail(where, "autoscaled, yet sets replicas (every apply would reset the autoscaler's count)")
            if name not in autoscaled and "replicas" not in spec:
                self.fail(where, "no replicas and no autoscaler")
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            self.fail(where, "pod securityContext.runAsNonRoot is not true")
        volumes = {volume["name"] for volume in pod.get("volumes", [])}
        volumes |= {claim["metadata"]["name"] for claim in spec.get("volumeClaimTemplates", [])}
        for container in pod["containers"] + pod.get("initContainers", []):
            at = f"{where}: container {container['name']}"
            self.container(at, container, volumes)
            env = self.env_of(container, config_maps)
            self.variables(at, [(item["name"], item.get("value")) for item in container.get("env", [])])
            image = container.get("image", "")
            repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
            if not tag or tag == "latest":
                self.fail(at, f"image {image!r} has no fixed tag")
            if repository.rsplit("/", 1)[-1] == "qbench":
                qbench_images.add(image)
                if tag != self.version_tag:
                    self.fail(at, f"image {image!r}: the tag is not the workspace version {self.version_tag}")
                self.qbench(at, resource, container, env)

    def container(self, at, container, volumes):
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory") if kind == "requests" else ("memory",):
                if what not in resources.get(kind, {}):
                    self.fail(at, f"resources.{kind}.{what} is not set")
        if container.get("ports"):
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in container:
                    self.fail(at, f"serves on {[p.get('containerPort') for p in container['ports']]} "
                                  f"but has no {probe}")
        context = container.get("securityContext", {})
        if context.get("allowPrivilegeEscalation") is not False:
            self.fail(at, "securityContext.allowPrivilegeEscalation is not false")
        if context.get("readOnlyRootFilesystem") is not True:
            self.fail(at, "securityContext.readOnlyRootFilesystem is not true")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes:
                self.fail(at, f"volumeMount {mount['name']!r} names no volume of the pod")

    def qbench(self, at, resource, container, env):
        """The invariants of a qbench server or worker container."""
        args = container.get("args") or container.get("command") or ["serve"]
        command = args[-1] if args[0] == "qbench" else args[0]
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        data_dir = env.get("QBENCH_DATA_DIR")
        if not data_dir or data_dir not in mounts:
            self.fail(at, f"QBENCH_DATA_DIR ({data_dir}) is not a mounted volume (the root filesystem is read-only)")
        if "/tmp" not in mounts:
            self.fail(at, "/tmp is not a mounted volume (the root filesystem is read-only)")
        for name in ("DATABASE_URL", "QBENCH_SECRET_KEY"):
            if name not in env:
                self.fail(at, f"{name} is not set: every pod shares one database and one key")
        pod = resource["spec"]["template"]["spec"]
        if command == "serve":
            if env.get("QBENCH_SERVER__BIND") != "0.0.0.0":
                self.fail(at, "QBENCH_SERVER__BIND is not 0.0.0.0: the server would answer only on loopback")
            if str(env.get("QBENCH_WORKER__ENABLED")).lower() != "false":
                self.fail(at, "QBENCH_WORKER__ENABLED is not false: the API server would run benchmarks")
            port = int(env.get("QBENCH_SERVER__PORT") or env.get("PORT") or self.defaults["server"]["port"])
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
            if port not in ports.values():
                self.fail(at, f"the server listens on {port}, which is no containerPort")
            for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
                http = container.get(probe, {}).get("httpGet", {})
                if http.get("path") != path:
                    self.fail(at, f"{probe} is not an HTTP GET of {path}")
                elif ports.get(http.get("port"), http.get("port")) != port:
                    self.fail(at, f"{probe} probes port {http.get('port')}, not the server's {port}")
        elif command == "worker":
            if str(env.get("QBENCH_WORKER__MAX_CONCURRENT_RUNS")) != "1":
                self.fail(at, "QBENCH_WORKER__MAX_CONCURRENT_RUNS is not 1: one benchmark per pod")
            resources = container.get("resources", {})
            for what in ("cpu", "memory"):
                request, limit = resources.get("requests", {}).get(what), resources.get("limits", {}).get(what)
                if request is None or limit is None or quantity(request) != quantity(limit):
                    self.fail(at, f"{what} request {request} differs from its limit {limit}: a run could be starved")
            budget = env.get("QBENCH_ENGINE__MEMORY_BUDGET_BYTES")
            limit = resources.get("limits", {}).get("memory")
            if not budget or int(budget) <= 0:
                self.fail(at, "QBENCH_ENGINE__MEMORY_BUDGET_BYTES is not set (0 means half of the node's memory)")
            elif limit and int(budget) >= quantity(limit):
                self.fail(at, f"QBENCH_ENGINE__MEMORY_BUDGET_BYTES {budget} is not below the memory limit {limit}")
            grace_ms = int(env.get("QBENCH_WORKER__CANCEL_GRACE_MS") or self.defaults["worker"]["cancel_grace_ms"])
            period = pod.get("terminationGracePeriodSeconds", 30)
            if period * 1000 < grace_ms + STOP_MARGIN_MS:
                self.fail(at, f"terminationGracePeriodSeconds {period} does not cover the cancel grace "
                              f"({grace_ms} ms) and {STOP_MARGIN_MS // 1000} s to record the run")
        else:
            self.fail(at, f"runs `qbench {command}`, neither serve nor worker")

    def scaled_object(self, where, resource, deployments):
        spec = resource.get("spec", {})
        unknown = set(spec) - SCALED_OBJECT_SPEC
        if unknown:
            self.fail(where, f"spec has unknown fields {sorted(unknown)}")
        target = spec.get("scaleTargetRef", {}).get("name")
        if target not in deployments:
            self.fail(where, f"scaleTargetRef {target!r} is no Deployment of this variant")
        triggers = spec.get("triggers") or []
        if not triggers:
            self.fail(where, "no triggers")
        for trigger in triggers:
            metadata = trigger.get("metadata", {})
            if trigger.get("type") != "prometheus":
                self.fail(where, f"trigger type {trigger.get('type')!r}: expected prometheus")
                continue
            for key in ("serverAddress", "query", "threshold"):
                if not isinstance(metadata.get(key), str) or not metadata[key]:
                    self.fail(where, f"prometheus trigger: metadata.{key} must be a non-empty string")
            if not re.search(r"\bqbench_(jobs|runs)\b", metadata.get("query", "")):
                self.fail(where, "prometheus trigger: the query reads no qbench queue gauge")
            try:
                float(metadata.get("threshold", ""))
            except ValueError:
                self.fail(where, "prometheus trigger: threshold is not a number")

    def variant(self, path):
        self.current = path.stem
        try:
            resources = [item for item in yaml.safe_load_all(path.read_text()) if item]
        except yaml.YAMLError as err:
            return self.fail("(file)", f"not YAML: {err}")
        if not resources:
            return self.fail("(file)", "renders nothing")
        name = lambda r: f"{r.get('kind')}/{r.get('metadata', {}).get('name')}"  # noqa: E731
        config_maps = {r["metadata"]["name"]: r.get("data", {}) for r in resources if r.get("kind") == "ConfigMap"}
        deployments = {r["metadata"]["name"] for r in resources if r.get("kind") == "Deployment"}
        autoscaled = {r["spec"]["scaleTargetRef"].get("name") for r in resources
                      if r.get("kind") in ("ScaledObject", "HorizontalPodAutoscaler") and "spec" in r}
        pods = [(r, r["spec"]["template"]) for r in resources if r.get("kind") in ("Deployment", "StatefulSet")]
        qbench_images = set()
        for resource in resources:
            where = name(resource)
            self.schema(where, resource)
            labels = resource.get("metadata", {}).get("labels", {})
            if labels.get("app.kubernetes.io/part-of") != "qbench":
                self.fail(where, "no app.kubernetes.io/part-of: qbench label")
            kind = resource.get("kind")
            if kind == "Secret":
                self.fail(where, "a Secret in the manifests: secrets are created apart (deploy/README.md)")
            elif kind == "ConfigMap":
                self.variables(where, resource.get("data", {}).items())
            elif kind in ("Deployment", "StatefulSet"):
                self.workload(where, resource, config_maps, autoscaled, qbench_images)
            elif kind == "Service":
                selector = resource["spec"].get("selector", {})
                chosen = [r for r, template in pods
                          if all(template["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
                if len(chosen) != 1:
                    self.fail(where, f"selector {selector} matches {len(chosen)} workloads, not one")
                else:
                    ports = [p for c in chosen[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
                    for port in resource["spec"].get("ports", []):
                        target = port.get("targetPort", port["port"])
                        if not any(target in (p.get("name"), p["containerPort"]) for p in ports):
                            self.fail(where, f"targetPort {target} is no port of {chosen[0]['metadata']['name']}")
            elif kind == "ScaledObject":
                self.scaled_object(where, resource, deployments)
        if len(qbench_images) > 1:
            self.fail("(images)", f"qbench containers run different images: {sorted(qbench_images)}")
        return len(resources)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="Kubernetes version of the schemas, e.g. 1.35")
    parser.add_argument("--root", required=True, type=Path, help="the repository (config, Cargo.toml)")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    check = Check(args.root, args.version)
    total = sum(check.variant(path) or 0 for path in args.files)
    for warning in sorted(check.warnings):
        print(f"deploy-check: warning: {warning}")
    for (where, message), variants in check.problems.items():
        print(f"deploy-check: {','.join(variants)}: {where}: {message}")
    if check.problems:
        print(f"deploy-check: {len(check.problems)} problem(s) in {len(args.files)} variant(s)")
        return 1
    print(f"deploy-check: {len(args.files)} variants, {total} resources: valid (Kubernetes {args.version}, strict)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
