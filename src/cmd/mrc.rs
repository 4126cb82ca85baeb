//! `cachesim mrc`: LRU miss-ratio curves.
use super::CliError;
use crate::cli::MrcArgs;
pub fn mrc(_a: MrcArgs) -> Result<(), CliError> {
    Ok(())
}
