//! The command line as a user types it: what parses, what is refused, and the help.

use super::*;

/// `spool COMMAND ARGS…` parsed, its command's settings picked by `pick`.
fn parse_command<T>(
    command: &str,
    args: &[&str],
    pick: impl Fn(Command) -> Option<T>,
) -> Result<T, clap::Error> {
    let argv = ["spool", command].into_iter().chain(args.iter().copied());
    Cli::try_parse_from(argv).map(|cli| match cli.command.and_then(&pick) {
        Some(config) => config,
        None => panic!("{args:?} parsed as another command than {command}"),
    })
}

fn parse(args: &[&str]) -> Result<ServeConfig, clap::Error> {
    parse_command("serve", args, |command| match command {
        Command::Serve(config) => Some(config),
        _ => None,
    })
}

#[test]
fn queues_are_named_with_their_concurrency_and_default_can_be_overridden() {
    let config = parse(&[
        "--concurrency",
        "4",
        "--queue",
        "emails=2",
        "--queue",
        "default=6",
    ])
    .unwrap();
    let queues: Vec<_> = config
        .engine
        .worked_queues()
        .into_iter()
        .map(|q| (q.name, q.concurrency))
        .collect();
    assert_eq!(
        queues,
        vec![
            ("default".to_string(), Concurrency::Fixed(6)),
            ("emails".to_string(), Concurrency::Fixed(2))
        ]
    );
}

#[test]
fn bad_settings_are_refused_at_start() {
    for args in [
        &["--queue", "emails"][..],
        &["--queue", "bad name=2"],
        &["--queue", "emails=0"],
        &["--concurrency", "0"],
        &["--concurrency", "auto=9..3"],
        &["--queue", "emails=auto=0..3"],
        &["--addr", "not-an-address"],
        &["--sqlite-synchronous", "sometimes"],
        &["--smtp-relay", "localhost"],
        &["--smtp-relay", "localhost:smtp"],
        &["--token", "short"],
        &["--token", "sixteen chars ok?"],
        &["--read-only-token", "a-read-only-token-alone"],
        &["--submit-burst", "0"],
    ] {
        assert!(parse(args).is_err(), "{args:?} was accepted");
    }
}

#[test]
fn only_loopback_is_served_without_a_token_unless_explicitly_opened() {
    let token = "a-long-enough-token";
    let refused = |args: &[&str]| parse(args).unwrap().refusal();
    assert_eq!(refused(&[]), None, "the default address is loopback");
    assert_eq!(refused(&["--addr", "[::1]:3000"]), None);
    let open = refused(&["--addr", "0.0.0.0:3000"]).expect("refused");
    assert!(open.contains("--token"), "{open}");
    assert!(refused(&["--addr", "192.168.1.5:80"]).is_some());
    assert_eq!(refused(&["--addr", "0.0.0.0:3000", "--token", token]), None);
    assert_eq!(
        refused(&["--addr", "0.0.0.0:3000", "--insecure-open-access"]),
        None
    );
    assert!(refused(&["--token", token, "--read-only-token", token]).is_some());
}

fn parse_worker(args: &[&str]) -> Result<WorkConfig, clap::Error> {
    parse_command("worker", args, |command| match command {
        Command::Worker(config) => Some(config),
        _ => None,
    })
}

#[test]
fn a_workers_metrics_port_follows_the_closed_by_default_rule() {
    let token = "a-long-enough-token";
    let refused = |args: &[&str]| parse_worker(args).unwrap().refusal();
    assert_eq!(refused(&[]), None, "no metrics port, nothing to refuse");
    assert_eq!(refused(&["--metrics-addr", "127.0.0.1:9100"]), None);
    let open = refused(&["--metrics-addr", "0.0.0.0:9100"]).expect("refused");
    assert!(
        open.contains("the metrics") && open.contains("--token"),
        "{open}"
    );
    assert_eq!(
        refused(&["--metrics-addr", "0.0.0.0:9100", "--token", token]),
        None
    );
    assert_eq!(
        refused(&["--metrics-addr", "0.0.0.0:9100", "--insecure-open-access"]),
        None
    );
    assert!(parse_worker(&["--metrics-addr", "nowhere:1"]).is_err());
}

#[test]
fn automatic_concurrency_is_taken_for_any_queue() {
    let config =
        parse_worker(&["--concurrency", "auto=2..16", "--queue", "emails=auto=1..4"]).unwrap();
    let queues: Vec<_> = config
        .engine
        .worked_queues()
        .into_iter()
        .map(|q| (q.name, q.concurrency))
        .collect();
    assert_eq!(
        queues,
        vec![
            ("default".to_string(), Concurrency::Auto { min: 2, max: 16 }),
            ("emails".to_string(), Concurrency::Auto { min: 1, max: 4 })
        ]
    );
}

#[test]
fn only_postgresql_is_shared_between_processes() {
    let refused = |args: &[&str]| parse(args).unwrap().refusal();
    let alone = refused(&["--no-workers", "--database-url", "sqlite://spool.db"])
        .expect("refused on a SQLite file");
    assert!(alone.contains("postgres://"), "{alone}");
    assert!(refused(&["--no-workers", "--database-url", "sqlite://other.db"]).is_some());
    for url in ["postgres://u@db/spool", "postgresql://u@db/spool"] {
        assert_eq!(refused(&["--no-workers", "--database-url", url]), None);
    }
    let worker = |url: &str| match Cli::try_parse_from(["spool", "worker", "--database-url", url]) {
        Ok(Cli {
            command: Some(Command::Worker(config)),
        }) => config.engine.refusal_to_share("spool worker"),
        other => panic!("did not parse as a worker: {other:?}"),
    };
    assert!(worker("sqlite://spool.db").is_some());
    assert_eq!(worker("postgres://u@db/spool"), None);
}

#[test]
fn no_command_means_serve_with_its_defaults() {
    let command = Cli::try_parse_from(["spool"])
        .unwrap()
        .command_or_serve()
        .unwrap();
    let Command::Serve(config) = command else {
        panic!("`spool` alone did not serve: {command:?}");
    };
    assert_eq!(config.engine.database_url, "sqlite://spool.db");
    assert!(!config.no_workers);
}

#[test]
fn the_address_comes_from_the_flag_then_cargo_leptos_then_the_default() {
    let addr = |args: &[&str]| parse(args).unwrap().listen_addr().to_string();
    assert_eq!(addr(&[]), "127.0.0.1:3000");
    assert_eq!(
        addr(&["--leptos-site-addr", "127.0.0.1:4100"]),
        "127.0.0.1:4100"
    );
    assert_eq!(
        addr(&[
            "--leptos-site-addr",
            "127.0.0.1:4100",
            "--addr",
            "127.0.0.1:4200"
        ]),
        "127.0.0.1:4200"
    );
    assert!(parse(&["--leptos-site-addr", "nowhere"]).is_err());
    let exposed = parse(&["--leptos-site-addr", "0.0.0.0:4100"]).unwrap();
    assert!(
        exposed.refusal().is_some(),
        "cargo-leptos's address obeys the token rule too"
    );
}

/// Every subcommand, by name, from the whole command line's definition.
fn subcommands() -> Vec<clap::Command> {
    use clap::CommandFactory;
    Cli::command().get_subcommands().cloned().collect()
}

fn long_flags(command: &clap::Command) -> Vec<String> {
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .filter_map(|arg| arg.get_long().map(str::to_string))
        .collect()
}

#[test]
fn every_visible_argument_has_a_one_line_help() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
    for command in subcommands() {
        assert!(
            command.get_about().is_some(),
            "`spool {}` has no help",
            command.get_name()
        );
        for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(
                !help.trim().is_empty(),
                "`spool {}`: {} has no help",
                command.get_name(),
                arg.get_id()
            );
            assert!(
                !help.contains('\n'),
                "`spool {}`: {}'s short help spans lines",
                command.get_name(),
                arg.get_id()
            );
        }
    }
}

#[test]
fn client_flags_belong_to_client_commands_only() {
    let names: Vec<String> = subcommands()
        .iter()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in [
        "serve", "worker", "submit", "list", "get", "cancel", "retry", "watch",
    ] {
        assert!(names.iter().any(|n| n == expected), "no `spool {expected}`");
    }
    for command in subcommands() {
        let flags = long_flags(&command);
        let is_client = !matches!(command.get_name(), "serve" | "worker");
        for client_flag in ["server", "json", "api-token"] {
            assert_eq!(
                flags.iter().any(|f| f == client_flag),
                is_client,
                "`spool {}` and --{client_flag}",
                command.get_name()
            );
        }
    }
}
