//! `email_simulation` {count}: builds real RFC 5322 messages and delivers them, to an
//! outbox folder under the data directory (one `.eml` file each) or, when an SMTP relay is
//! configured, through it.

use super::{TaskContext, TaskError, TaskKind};
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Where messages go.
#[derive(Clone)]
pub enum Delivery {
    /// One `<id>.eml` file per message in this folder.
    Outbox(PathBuf),
    /// An SMTP relay (no TLS: meant for a local relay or a test server).
    Smtp { host: String, port: u16 },
}

pub struct EmailSimulation {
    pub delivery: Delivery,
}

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How many messages to build and deliver.
    #[schemars(range(min = 1, max = 100))]
    count: u32,
    /// Pause after each message, so progress can be watched; 0 runs at full speed.
    #[schemars(range(max = 10_000))]
    pace_ms: u64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            count: 5,
            pace_ms: 500,
        }
    }
}

/// One delivered message.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Sent {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    /// The `.eml` file, relative to the outbox, when delivered to the outbox.
    pub file: Option<String>,
    pub bytes: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    pub delivered: usize,
    pub via: &'static str,
    pub messages: Vec<Sent>,
}

impl TaskKind for EmailSimulation {
    const NAME: &'static str = "email_simulation";
    const DESCRIPTION: &'static str =
        "Builds RFC 5322 messages and delivers them to the outbox (or an SMTP relay).";
    type Params = Params;
    type Output = Output;

    async fn run(&self, ctx: TaskContext, params: Params) -> Result<Output, TaskError> {
        let mut messages = Vec::new();
        for n in 1..=params.count {
            let message = compose(&ctx, n, params.count)?;
            let formatted = message.formatted();
            let message_id = header_value(&formatted, "Message-ID").unwrap_or_default();
            let file = self.deliver(&message).await?;
            ctx.info(format_args!(
                "delivered {message_id} to recipient{n}@example.test"
            ));
            messages.push(Sent {
                to: format!("recipient{n}@example.test"),
                subject: format!("Spool report {n} of {}", params.count),
                message_id,
                file,
                bytes: formatted.len(),
            });
            ctx.progress(
                (n * 100 / params.count).min(99) as u8,
                format!("delivered {n} of {} messages", params.count),
            );
            if n < params.count {
                ctx.pace(Duration::from_millis(params.pace_ms)).await?;
            }
        }
        let via = match self.delivery {
            Delivery::Outbox(_) => "outbox",
            Delivery::Smtp { .. } => "smtp",
        };
        Ok(Output {
            delivered: messages.len(),
            via,
            messages,
        })
    }
}

impl EmailSimulation {
    async fn deliver(&self, message: &Message) -> Result<Option<String>, TaskError> {
        match &self.delivery {
            Delivery::Outbox(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| TaskError::Failed(format!("cannot create the outbox: {e}")))?;
                let id = AsyncFileTransport::<Tokio1Executor>::new(dir)
                    .send(message.clone())
                    .await
                    .map_err(|e| TaskError::Failed(format!("writing to the outbox failed: {e}")))?;
                Ok(Some(format!("{id}.eml")))
            }
            Delivery::Smtp { host, port } => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                    .port(*port)
                    .build()
                    .send(message.clone())
                    .await
                    .map_err(|e| TaskError::Failed(format!("SMTP delivery failed: {e}")))?;
                Ok(None)
            }
        }
    }
}

fn compose(ctx: &TaskContext, n: u32, count: u32) -> Result<Message, TaskError> {
    let mailbox = |text: String| {
        text.parse::<Mailbox>()
            .map_err(|e| TaskError::Failed(format!("bad address {text:?}: {e}")))
    };
    Message::builder()
        .from(mailbox("Spool <spool@localhost>".into())?)
        .to(mailbox(format!("Recipient {n} <recipient{n}@example.test>"))?)
        .subject(format!("Spool report {n} of {count}"))
        .message_id(Some(format!("<{}.{n}@spool.localhost>", ctx.id())))
        .date_now()
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "Hello recipient {n},\r\n\r\nthis is message {n} of {count} sent by task {} (attempt {}).\r\n",
            ctx.id(),
            ctx.attempt()
        ))
        .map_err(|e| TaskError::Failed(format!("building message {n} failed: {e}")))
}

/// The value of the first header called `name` in a formatted message.
fn header_value(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_message_lands_in_the_outbox_as_a_parseable_rfc5322_file() {
        let dir = tempfile::tempdir().unwrap();
        let kind = EmailSimulation {
            delivery: Delivery::Outbox(dir.path().to_path_buf()),
        };
        let ctx = TaskContext::new(uuid::Uuid::new_v4(), 1, Default::default());
        let out = kind
            .run(
                ctx.clone(),
                Params {
                    count: 3,
                    pace_ms: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(out.delivered, 3);
        for (i, sent) in out.messages.iter().enumerate() {
            let file = dir.path().join(sent.file.as_ref().unwrap());
            let raw = std::fs::read(&file).unwrap();
            assert_eq!(
                header_value(&raw, "To").unwrap(),
                format!("\"Recipient {}\" <recipient{}@example.test>", i + 1, i + 1)
            );
            assert_eq!(
                header_value(&raw, "Subject").unwrap(),
                format!("Spool report {} of 3", i + 1)
            );
            assert_eq!(header_value(&raw, "Message-ID").unwrap(), sent.message_id);
            assert!(sent.message_id.contains(&ctx.id().to_string()));
            let date = header_value(&raw, "Date").unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc2822(&date).is_ok(),
                "{date}"
            );
            let text = String::from_utf8(raw).unwrap();
            let (_, body) = text.split_once("\r\n\r\n").unwrap();
            assert!(body.contains(&format!("message {} of 3", i + 1)), "{body}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[tokio::test]
    async fn an_unreachable_relay_fails_the_attempt_with_a_message() {
        let kind = EmailSimulation {
            delivery: Delivery::Smtp {
                host: "127.0.0.1".into(),
                port: 9,
            },
        };
        let ctx = TaskContext::new(uuid::Uuid::new_v4(), 1, Default::default());
        let err = kind
            .run(
                ctx,
                Params {
                    count: 1,
                    pace_ms: 0,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, TaskError::Failed(m) if m.starts_with("SMTP delivery failed")),
            "{err:?}"
        );
    }
}
