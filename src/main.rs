//! The `darkhan` command: serve (default), migrate, export-schema, create-admin.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use darkhan::{app, config::Settings, db, graphql, telemetry};

// glibc's allocator spent a fifth of the server's time in malloc/free under load (measured
// with perf on the product-page benchmark); mimalloc handles the many small GraphQL values better.
// Built with `no_thp`: otherwise it asks for transparent huge pages on its arenas, and a 2 MB
// page barely used cost 17 MB of the 70 MB peak RSS under the page benchmark.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "darkhan",
    version,
    about = "Darkhan marketplace GraphQL server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write the GraphQL SDL to a file (default `schema.graphql`) or `-` for stdout.
    ExportSchema {
        #[arg(default_value = "schema.graphql")]
        path: String,
    },
    /// Fill an empty database with a deterministic demo catalogue (50 shops, 2,000 products).
    SeedDemo {
        /// Also a year of paid orders (about this many a day, with seasons, refunds and
        /// cancellations) and the market statistics built from them.
        #[arg(long, value_name = "ORDERS_PER_DAY", num_args = 0..=1, default_missing_value = "60")]
        history: Option<usize>,
    },
    /// Recompute the market statistics from the orders (in one transaction) and exit.
    RebuildStatistics,
    /// Create an ADMIN account. The password is read from DARKHAN_ADMIN_PASSWORD.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
        #[arg(long, env = "DARKHAN_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("darkhan: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init_logging(&settings.log);
            telemetry::metrics();
            let addr = format!("{}:{}", settings.server.host, settings.server.port);
            let state = app::build_state(settings).await?;
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            tracing::info!("Darkhan listening; GraphiQL at http://{local}/graphql");
            println!("GraphiQL: http://{local}/graphql");
            app::serve(listener, state, app::shutdown_signal()).await
        }
        Command::Migrate => {
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::ExportSchema { path } => {
            let sdl = graphql::sdl(&graphql::build_schema(&settings.graphql, None));
            if path == "-" {
                print!("{sdl}");
            } else {
                std::fs::write(&path, sdl).with_context(|| format!("writing {path}"))?;
                println!("wrote {path}");
            }
            Ok(())
        }
        Command::SeedDemo { history } => {
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            let seeded = darkhan::demo::seed(&conn)
                .await
                .map_err(darkhan::error::AppError::into_anyhow)?;
            println!(
                "seeded {} shops, {} products, {} variants; artisans sign in as artisanN@demo.darkhan.mn / {}",
                seeded.shops,
                seeded.products,
                seeded.variants,
                darkhan::demo::DEMO_PASSWORD
            );
            if let Some(per_day) = history {
                let h = darkhan::demo::history(&conn, per_day)
                    .await
                    .map_err(darkhan::error::AppError::into_anyhow)?;
                println!(
                    "added a year of history: {} buyers in 30 countries, {} orders, {} lines",
                    h.buyers, h.orders, h.lines
                );
                let state = app::build_state(settings).await?;
                let r = darkhan::statistics::cube::rebuild(&state)
                    .await
                    .map_err(darkhan::error::AppError::into_anyhow)?;
                println!("market statistics: {} facts, {} cells", r.facts, r.cells);
            }
            Ok(())
        }
        Command::RebuildStatistics => {
            let state = app::build_state(settings).await?;
            let started = std::time::Instant::now();
            let r = darkhan::statistics::cube::rebuild(&state)
                .await
                .map_err(darkhan::error::AppError::into_anyhow)?;
            println!(
                "rebuilt statistics from {} paid orders: {} facts, {} cells in {:.1} s",
                r.orders,
                r.facts,
                r.cells,
                started.elapsed().as_secs_f64()
            );
            for (phase, spent) in &r.phases {
                println!("  {phase}: {spent:.1} s");
            }
            Ok(())
        }
        Command::CreateAdmin {
            email,
            name,
            password,
        } => {
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            let user = darkhan::accounts::service::create_admin(&conn, &email, &password, &name)
                .await
                .map_err(darkhan::error::AppError::into_anyhow)?;
            println!("created admin {} ({})", user.email, user.id);
            Ok(())
        }
    }
}
