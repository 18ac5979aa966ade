//! Records the git commit and build time for `/api/v1/metadata/version`, and makes sure the
//! pinned front-end assets compiled into the binary (`web/`, Swagger UI and ReDoc) are installed.

use std::path::Path;
use std::process::Command;

/// The files `qbench_app::docs` embeds, relative to `web/`.
const ASSETS: [&str; 3] = [
    "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
    "node_modules/swagger-ui-dist/swagger-ui.css",
    "node_modules/redoc/bundles/redoc.standalone.js",
];

/// Installs `web/`'s locked packages with npm when an embedded asset is missing.
fn install_web_assets() {
    let web = Path::new("web");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    for asset in ASSETS {
        // A missing file counts as changed: the check runs again once it is deleted.
        println!("cargo:rerun-if-changed=web/{asset}");
    }
    if ASSETS.iter().all(|asset| web.join(asset).is_file()) {
        return;
    }
    println!("cargo:warning=installing the pinned Swagger UI and ReDoc assets: npm ci in crates/app/web");
    let status = Command::new("npm")
        .args(["ci", "--omit=peer", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(web)
        .status();
    match status {
        Ok(status) if status.success() => {}
        outcome => {
            eprintln!(
                "qbench-app: the /docs and /redoc assets are missing and `npm ci` in crates/app/web did not install \
                 them ({outcome:?}); install Node.js and npm, or run it by hand"
            );
            std::process::exit(1);
        }
    }
}

fn main() {
    install_web_assets();
    let git_sha = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|sha| sha.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let build_time = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|epoch| epoch.parse::<i64>().ok())
        .and_then(|epoch| chrono::DateTime::from_timestamp(epoch, 0))
        .unwrap_or_else(chrono::Utc::now)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    println!("cargo:rustc-env=QBENCH_GIT_SHA={git_sha}");
    println!("cargo:rustc-env=QBENCH_BUILD_TIME={build_time}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
}
