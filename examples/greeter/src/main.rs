//! An application with its own kind of task, `greet`, run and served by Spool: the REST
//! API at `/api`, the dashboard at `/` (when `SITE_ROOT` names Spool's built site), and
//! the workers, all in this program.
//!
//! `greeter [ADDR] [DATABASE_URL]`, by default `127.0.0.1:8090 sqlite://greeter.db`.

use serde::{Deserialize, Serialize};
use spool::model::{ParamKind, ParamSpec};
use spool::{Spool, TaskContext, TaskError, TaskKind};
use std::time::Duration;

/// Greets someone a few times, one greeting a step.
struct Greet;

#[derive(Deserialize)]
struct GreetParams {
    times: i64,
    mood: String,
}

#[derive(Serialize)]
struct Greeting {
    text: String,
    attempt: i32,
}

impl TaskKind for Greet {
    const NAME: &'static str = "greet";
    const DESCRIPTION: &'static str = "Says hello a few times; a grumpy greeter refuses for good.";
    type Params = GreetParams;
    type Output = Greeting;

    fn params() -> Vec<ParamSpec> {
        vec![
            ParamSpec {
                name: "times".into(),
                help: "How many hellos.".into(),
                kind: ParamKind::Integer {
                    min: 1,
                    max: 10,
                    default: 3,
                },
            },
            ParamSpec {
                name: "mood".into(),
                help: "A grumpy greeter fails, and retrying would not help.".into(),
                kind: ParamKind::Choice {
                    options: vec!["cheerful".into(), "grumpy".into()],
                    default: "cheerful".into(),
                },
            },
        ]
    }

    async fn run(&self, ctx: TaskContext, params: GreetParams) -> Result<Greeting, TaskError> {
        if params.mood == "grumpy" {
            ctx.warn("refusing to greet");
            return Err(TaskError::permanent("the greeter is grumpy today"));
        }
        let mut text = Vec::new();
        for step in 1..=params.times {
            ctx.pace(Duration::from_millis(20)).await?;
            text.push("hello");
            ctx.progress((step * 100 / params.times) as u8, format!("{step} said"));
        }
        ctx.info(format!("greeted {} times", params.times));
        Ok(Greeting {
            text: text.join(", "),
            attempt: ctx.attempt(),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8090".into());
    let database = args.next().unwrap_or_else(|| "sqlite://greeter.db".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);

    let mut spool = Spool::new(database)?
        .without_builtin_kinds()
        .kind(Greet)
        .queue("default", 4);
    if let Some(site) = std::env::var_os("SITE_ROOT") {
        spool = spool.site_root(site);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    spool.serve(listener, shutdown).await?;
    Ok(())
}
