//! The dashboard and the API documentation in a real headless Chromium, driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, installed by `make deps`), against a real
//! `qbench serve`: every page loads with no console error and nothing from the network, a run
//! created through the API appears and its page draws one chart point per measured setting, the
//! compare page shows the differences, the form shows a 422's field errors next to their fields.
//!
//! With `QBENCH_SCREENSHOTS=<dir>` the pages are also saved there as PNG (`docs/screenshots`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::Process;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const REDOCLY_LOGO: &str = "https://cdn.redoc.ly/redoc/logo-mini.svg ";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `qbench serve` on embedded defaults in a data directory of its own, with a small dataset.
struct Server {
    _process: Process,
    port: u16,
    _data: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let generated = Command::new(env!("CARGO_BIN_EXE_qbench"))
            .env("QBENCH_DATA_DIR", data.path())
            .args(["dataset", "generate", "--rows", "2000", "--queries", "30", "--vectors", "text:16:Cosine", "--out"])
            .arg(data.path().join("synth"))
            .output()
            .unwrap();
        assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
        let config = data.path().join("qbench.toml");
        std::fs::write(&config, "").unwrap();
        let (process, port) = Process::serve(data.path(), &config, data.path());
        Self { _process: process, port, _data: data }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let reply = reqwest::Client::new()
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}: {}", reply.status());
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        serde_json::from_slice(&reqwest::get(self.url(path)).await.unwrap().bytes().await.unwrap()).unwrap()
    }

    /// Registers the dataset and an experiment measuring `hnsw_ef` with graph degree `m`, runs it
    /// to the end; its run's id.
    async fn completed_run(&self, m: u32, hnsw_ef: &[u32]) -> String {
        let datasets = self.get("/api/v1/datasets").await;
        let dataset = match datasets.as_array().unwrap().first() {
            Some(dataset) => dataset["id"].clone(),
            None => {
                let schema = json!({"vectors": {"text": {"dim": 16, "distance": "Cosine"}}});
                self.post("/api/v1/datasets", json!({"name": "synth", "source_uri": "synth/", "schema_config": schema}))
                    .await["id"]
                    .clone()
            }
        };
        let connection = self.get("/api/v1/connections").await[0]["id"].clone();
        let experiment = self
            .post(
                "/api/v1/experiments",
                json!({"name": format!("m{m}"), "dataset_id": dataset, "connection_id": connection,
                       "optimizer_config": {"indexing": {"text": {"m": m, "ef_construct": 32}}},
                       "search_config": {"k": 10, "hnsw_ef": hnsw_ef, "repetitions": 1, "min_seconds": 0.05}}),
            )
            .await;
        let run =
            self.post(&format!("/api/v1/experiments/{}/runs", experiment["id"].as_str().unwrap()), json!({})).await;
        let id = run["run_id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let run = self.get(&format!("/api/v1/runs/{id}")).await;
            match run["status"].as_str().unwrap() {
                "COMPLETED" => return id,
                "FAILED" | "CANCELED" => panic!("the run ended {run:#}"),
                _ => assert!(Instant::now() < deadline, "the run never ended: {run:#}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A headless Chromium behind chromedriver, which can resolve no host but this machine.
struct Browser {
    driver: Child,
    client: Client,
}

impl Browser {
    async fn open() -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is missing: `make deps` installs chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities: Capabilities = serde_json::from_value(json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }))
        .unwrap();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        Self { driver, client }
    }

    /// Opens `url` and asserts the console logged no error (a failed load included).
    async fn visit(&self, url: &str) {
        self.client.goto(url).await.unwrap();
        self.assert_no_console_error(url).await;
    }

    async fn assert_no_console_error(&self, url: &str) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "{url} logged errors: {errors:#?}");
    }

    /// The errors the console logged since last asked.
    async fn console_errors(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap();
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            // ReDoc 2.5.4 always puts Redocly's logo from its CDN in the sidebar's footer (no option
            // turns it off); offline it fails, hides itself, and nothing else is fetched.
            .filter(|message| !message.starts_with(REDOCLY_LOGO))
            .collect()
    }

    async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until `css` matches at least `at_least` elements (a page that renders by script).
    async fn wait_for(&self, css: &str, at_least: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.count(css).await;
            if found >= at_least {
                return found;
            }
            assert!(Instant::now() < deadline, "{css}: {found} of {at_least}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("QBENCH_SCREENSHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            self.client.set_window_size(1280, 1700).await.unwrap();
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{name}.png")),
                self.client.screenshot().await.unwrap(),
            )
            .unwrap();
        }
    }

    async fn close(mut self) {
        self.client.clone().close().await.unwrap();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// chromedriver's console log of the page (`goog:loggingPrefs`), read and cleared.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

#[tokio::test]
async fn a_run_created_through_the_api_is_listed_drawn_and_compared_in_the_browser() {
    let server = Server::start();
    let first = server.completed_run(8, &[10, 20, 40]).await;
    let second = server.completed_run(16, &[10, 20, 40]).await;
    let browser = Browser::open().await;

    browser.visit(&server.url("/")).await;
    assert_eq!(browser.count(&format!("tr[data-run=\"{first}\"]")).await, 1, "the run is listed");
    assert_eq!(browser.count("tr[data-status=\"COMPLETED\"]").await, 2);
    browser.screenshot("runs").await;

    browser.visit(&server.url(&format!("/ui/runs/{first}"))).await;
    let settings = server.get(&format!("/api/v1/runs/{first}")).await["metrics"]["results"].as_array().unwrap().len();
    assert_eq!(settings, 3);
    assert_eq!(browser.count("figure[data-chart=\"recall-qps\"] svg circle").await, settings, "a point per setting");
    assert_eq!(browser.count("figure[data-chart=\"recall-p99\"] svg circle").await, settings);
    assert!(browser.count("table.log tbody tr").await > 0, "the run's log");
    browser.screenshot("run").await;
    // Its report page, through the signed link on the page.
    let report =
        browser.client.find(Locator::LinkText("report (HTML)")).await.unwrap().attr("href").await.unwrap().unwrap();
    browser.visit(&report).await;
    assert_eq!(browser.count("figure[data-chart=\"recall-qps\"] svg circle").await, settings);

    browser.visit(&server.url(&format!("/ui/compare?ids={first},{second}"))).await;
    let differing: Vec<String> = {
        let mut keys = Vec::new();
        for row in
            browser.client.find_all(Locator::Css("table.settings-compared tr.diff td:first-child")).await.unwrap()
        {
            keys.push(row.text().await.unwrap());
        }
        keys
    };
    assert!(differing.contains(&"optimizer_config.indexing.text.m".to_owned()), "{differing:?}");
    let same = browser.client.find(Locator::Css("table.settings-compared tr.same")).await.unwrap();
    assert!(same.is_displayed().await.unwrap());
    browser.screenshot("compare").await;
    browser.client.find(Locator::Css("#differences-only")).await.unwrap().click().await.unwrap();
    assert!(!same.is_displayed().await.unwrap(), "differences only hides the settings the runs share");
    browser.close().await;
}

#[tokio::test]
async fn the_experiment_form_shows_each_field_error_next_to_its_field_then_runs() {
    let server = Server::start();
    server.completed_run(8, &[10]).await;
    let browser = Browser::open().await;
    browser.visit(&server.url("/ui/experiments")).await;
    let form = browser.client.form(Locator::Css("form.stack")).await.unwrap();
    form.set_by_name("name", "").await.unwrap();
    form.set_by_name("m", "abc").await.unwrap();
    form.set_by_name("hnsw_ef", "3").await.unwrap();
    form.set_by_name("k", "10").await.unwrap();
    form.submit().await.unwrap();
    browser.client.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(".field-error")).await.unwrap();
    // The page answered 422 (which Chromium logs as a failed load), and nothing else failed.
    let errors = browser.console_errors().await;
    assert!(errors.len() == 1 && errors[0].contains("/ui/experiments") && errors[0].contains("422"), "{errors:#?}");
    let error = |field: &'static str| {
        let client = browser.client.clone();
        async move {
            client
                .find(Locator::Css(&format!(".field-error[data-field=\"{field}\"]")))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert!(error("name").await.contains("empty"));
    assert!(error("m").await.contains("abc"));
    assert!(error("hnsw_ef").await.contains("smaller than k"));
    browser.screenshot("experiment-form").await;

    let form = browser.client.form(Locator::Css("form.stack")).await.unwrap();
    form.set_by_name("name", "from the form").await.unwrap();
    form.set_by_name("m", "16").await.unwrap();
    form.set_by_name("hnsw_ef", "16, 32").await.unwrap();
    form.submit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !browser.client.current_url().await.unwrap().path().starts_with("/ui/runs/") {
        assert!(
            Instant::now() < deadline,
            "the form never went to its run: {}",
            browser.client.current_url().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(browser.client.source().await.unwrap().contains("from the form"));

    // The embedded connection, tested from the page: every step that applies passed.
    browser.visit(&server.url("/ui/experiments")).await;
    let embedded = server.get("/api/v1/connections").await[0]["id"].as_str().unwrap().to_owned();
    let test = format!("tr[data-connection=\"{embedded}\"] button");
    browser.client.find(Locator::Css(&test)).await.unwrap().click().await.unwrap();
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("table.connection-test"))
        .await
        .unwrap();
    browser.assert_no_console_error("the connection test").await;
    assert_eq!(browser.count("tr[data-step=\"qdrant\"][data-status=\"passed\"]").await, 1);
    assert_eq!(browser.count("tr[data-status=\"failed\"]").await, 0);
    browser.close().await;
}

#[tokio::test]
async fn the_api_documentation_lists_every_operation_with_no_network() {
    let server = Server::start();
    let spec = server.get("/openapi.json").await;
    let operations: usize =
        spec["paths"].as_object().unwrap().values().map(|path| path.as_object().unwrap().len()).sum();
    assert!(operations > 40, "{operations}");
    let browser = Browser::open().await;
    browser.visit(&server.url("/docs")).await;
    assert_eq!(browser.wait_for(".opblock", operations).await, operations);
    browser.assert_no_console_error("/docs").await;
    browser.screenshot("docs").await;
    browser.visit(&server.url("/redoc")).await;
    assert_eq!(browser.wait_for("[data-section-id^=\"operation/\"]", operations).await, operations);
    browser.assert_no_console_error("/redoc").await;
    browser.close().await;
}

#[tokio::test]
async fn a_study_page_draws_its_points_and_the_qdrant_json_to_copy() {
    let server = Server::start();
    server.completed_run(8, &[10]).await;
    let dataset = server.get("/api/v1/datasets").await[0]["id"].clone();
    let connection = server.get("/api/v1/connections").await[0]["id"].clone();
    let study = server
        .post(
            "/api/v1/studies",
            json!({"name": "tune", "dataset_id": dataset, "connection_id": connection, "k": 10,
                   "space": {"vectors": {"text": {"m": [8, 16], "ef_construct": [32]}}, "search": {"hnsw_ef": [10, 20]}},
                   "objective": {"target": 0.9}, "repetitions": 1}),
        )
        .await;
    let id = study["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    let points = loop {
        let study = server.get(&format!("/api/v1/studies/{id}")).await;
        match study["status"].as_str().unwrap() {
            "COMPLETED" => break study["report"]["points"].as_array().unwrap().len(),
            "FAILED" | "CANCELED" => panic!("the study ended {study:#}"),
            _ => assert!(Instant::now() < deadline, "the study never ended: {study:#}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(points, 4);
    let browser = Browser::open().await;
    browser.visit(&server.url("/ui/studies")).await;
    assert_eq!(browser.count(&format!("tr[data-study=\"{id}\"]")).await, 1);
    browser.visit(&server.url(&format!("/ui/studies/{id}"))).await;
    assert_eq!(browser.count("figure[data-chart=\"recall-qps\"] svg circle").await, points);
    let collection = browser.client.find(Locator::Css("pre.qdrant-collection")).await.unwrap().text().await.unwrap();
    let collection: Value = serde_json::from_str(&collection).unwrap();
    assert_eq!(collection["vectors"]["text"]["size"], 16, "{collection:#}");
    browser.screenshot("study").await;
    browser.close().await;
}
