//! Writing command output: text or pretty JSON to standard output, where a
//! closed pipe (`| head`) ends output quietly.

use super::CliError;

/// Writes `text` to standard output.
pub fn emit(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(source) => Err(CliError::Io {
            what: "writing to standard output",
            source,
        }),
        Ok(()) => Ok(()),
    }
}

/// Writes `value` as pretty JSON to standard output.
pub fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io {
        what: "writing JSON",
        source: e.into(),
    })?;
    emit(&(text + "\n"))
}
