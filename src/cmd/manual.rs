//! `eds-kafka completions SHELL` and `eds-kafka man`: the shell completion
//! script and the roff manual page, both generated from the clap definition
//! (`cli.rs`), so they list exactly the subcommands and flags there are.

use std::io::Write;

use anyhow::{Context, Result};

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "eds-kafka", &mut text);
    print(&text)
}

/// Prints the manual page: the command (its exit codes as EXIT STATUS),
/// then a section per subcommand with its synopsis and options.
pub fn man() -> Result<()> {
    let command = crate::cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .context("rendering the man page")?;
    let mut text = String::from_utf8_lossy(&page).replace(".SH EXTRA", ".SH \"EXIT STATUS\"");
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut part = Vec::new();
        let man = clap_mangen::Man::new(sub.clone());
        man.render_description_section(&mut part)
            .and_then(|()| man.render_synopsis_section(&mut part))
            .and_then(|()| man.render_options_section(&mut part))
            .context("rendering the man page")?;
        // Its sections are subsections of the subcommand's.
        let part = String::from_utf8_lossy(&part).replace(".SH ", ".SS ");
        text.push_str(&format!(
            ".SH \"EDS-KAFKA {}\"\n{part}",
            sub.get_name().to_uppercase()
        ));
    }
    print(text.as_bytes())
}

fn print(text: &[u8]) -> Result<()> {
    let mut out = crate::sink::Watched(std::io::stdout().lock());
    out.write_all(text)
        .and_then(|()| out.flush())
        .context("writing stdout")
}
