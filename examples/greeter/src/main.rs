//! An application with its own kind of task, `greet`, run and served by Spool: the REST
//! API at `/api`, the dashboard at `/` (when `SITE_ROOT` names Spool's built site), and
//! the workers, all in this program.
//!
//! `greeter [ADDR] [DATABASE_URL]`, by default `127.0.0.1:8090 sqlite://greeter.db`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use spool::{Spool, TaskContext, TaskError, TaskKind};
use std::time::Duration;

/// Greets someone a few times, one greeting a step.
struct Greet;

/// The parameters: their JSON Schema, derived from this type, checks every submit and
/// draws the dashboard's form (doc comments are the help, `range` the bounds, the
/// `Default` the defaults).
#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct GreetParams {
    /// How many hellos.
    #[schemars(range(min = 1, max = 10))]
    times: i64,
    /// A grumpy greeter fails, and retrying would not help.
    mood: Mood,
}

#[derive(Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Mood {
    Cheerful,
    Grumpy,
}

impl Default for GreetParams {
    fn default() -> GreetParams {
        GreetParams {
            times: 3,
            mood: Mood::Cheerful,
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct Greeting {
    text: String,
    attempt: i32,
}

impl TaskKind for Greet {
    const NAME: &'static str = "greet";
    const DESCRIPTION: &'static str = "Says hello a few times; a grumpy greeter refuses for good.";
    type Params = GreetParams;
    type Output = Greeting;

    async fn run(&self, ctx: TaskContext, params: GreetParams) -> Result<Greeting, TaskError> {
        if params.mood == Mood::Grumpy {
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
