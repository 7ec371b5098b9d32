//! The command line as a user types it: what parses, what is refused, and the help.

use super::*;

fn parse(args: &[&str]) -> Result<ServeConfig, clap::Error> {
    let argv = ["spool", "serve"].iter().chain(args).copied();
    Cli::try_parse_from(argv).map(|cli| match cli.command {
        Some(Command::Serve(config)) => config,
        other => panic!("parsed as another command: {other:?}"),
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
        vec![("default".to_string(), 6), ("emails".to_string(), 2)]
    );
}

#[test]
fn bad_settings_are_refused_at_start() {
    for args in [
        &["--queue", "emails"][..],
        &["--queue", "bad name=2"],
        &["--queue", "emails=0"],
        &["--concurrency", "0"],
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
        }) => config.refusal_to_share("spool worker"),
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
