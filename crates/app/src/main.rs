//! The `qbench` binary.

use std::process::ExitCode;

use clap::Parser;
use qbench_app::cli::{Cli, Command, ServeArgs};
use qbench_app::settings::Settings;
use qbench_app::{server, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut settings = match Settings::from_process_env(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("qbench: {err}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => {
            if let Some(port) = args.port {
                settings.server.port = port;
            }
            if let Some(bind) = args.bind {
                settings.server.bind = bind;
            }
            telemetry::init(&settings.log, std::io::stdout);
            let result = actix_web::rt::System::new().block_on(server::serve(settings));
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    tracing::error!(error = %err, "qbench failed");
                    eprintln!("qbench: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
