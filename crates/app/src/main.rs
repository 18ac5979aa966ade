//! The `qbench` binary.

use std::process::ExitCode;

use clap::Parser;
use qbench_app::cli::{AdminCommand, Cli, Command, DatasetCommand, ServeArgs};
use qbench_app::commands::{CommandError, api_key, bench, compare, generate, inspect, tune};
use qbench_app::settings::Settings;
use qbench_app::{server, telemetry};

fn main() -> ExitCode {
    // Before any thread starts; whether it took effect changes memory, never behaviour.
    let _fixed = qbench_app::allocator::fix_mmap_threshold();
    let cli = Cli::parse();
    let mut settings = match Settings::from_process_env(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("qbench: {err}");
            return ExitCode::from(2);
        }
    };
    qbench_object_storage::install_crypto_provider();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            if let Some(port) = args.port {
                settings.server.port = port;
            }
            if let Some(bind) = args.bind {
                settings.server.bind = bind;
            }
            telemetry::init(&settings.log, std::io::stdout);
            finish(actix_web::rt::System::new().block_on(server::serve(settings)).map_err(CommandError::new))
        }
        Command::Worker => {
            telemetry::init(&settings.log, std::io::stdout);
            finish(runtime().and_then(|rt| rt.block_on(server::work(settings)).map_err(CommandError::new)))
        }
        Command::Dataset(DatasetCommand::Generate(args)) => {
            finish(runtime().and_then(|rt| rt.block_on(generate::run(args, &settings))))
        }
        Command::Dataset(DatasetCommand::Inspect(args)) => {
            finish(runtime().and_then(|rt| rt.block_on(inspect::run(args, &settings))))
        }
        Command::Bench(args) => {
            // Progress bars own the terminal; the engine's logs would only garble them.
            let quiet = qbench_app::settings::LogSettings { level: "error".to_owned(), ..settings.log.clone() };
            telemetry::init(&quiet, std::io::stderr);
            // Its log shares standard error: a failure is the one line `exit` prints.
            exit(runtime().and_then(|rt| rt.block_on(bench::run(args, &settings))))
        }
        Command::Tune(args) => {
            let quiet = qbench_app::settings::LogSettings { level: "error".to_owned(), ..settings.log.clone() };
            telemetry::init(&quiet, std::io::stderr);
            exit(runtime().and_then(|rt| rt.block_on(tune::run(args, &settings))))
        }
        Command::Compare(args) => {
            telemetry::init(&settings.log, std::io::stderr);
            exit(runtime().and_then(|rt| rt.block_on(compare::run(args))))
        }
        Command::ExecuteRun(args) => {
            // Standard output carries the messages to the parent; the log goes to standard error,
            // which the parent forwards into its own log.
            telemetry::init(&settings.log, std::io::stderr);
            let run_id = qbench_domain::RunId::from(args.run_id);
            exit(
                runtime().map(|rt| rt.block_on(qbench_app::isolation::execute_run(&settings, run_id, &args.worker_id))),
            )
        }
        Command::Admin(AdminCommand::ApiKey(command)) => {
            // The key goes to stdout alone; the audit events (and warnings) go to stderr.
            let audit =
                qbench_app::settings::LogSettings { level: "warn,audit=info".to_owned(), ..settings.log.clone() };
            telemetry::init(&audit, std::io::stderr);
            exit(runtime().and_then(|rt| rt.block_on(api_key::run(command, &settings, &mut std::io::stdout()))))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CommandError::new)
}

/// Exit code 0, or one line on stderr (and in the log) and 1.
fn finish(result: Result<(), CommandError>) -> ExitCode {
    if let Err(err) = &result {
        tracing::error!(error = %err, "qbench failed");
    }
    exit(result)
}

/// Exit code 0, or one line on stderr and 1 (for commands whose log shares stderr).
fn exit(result: Result<(), CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("qbench: {err}");
            ExitCode::FAILURE
        }
    }
}
