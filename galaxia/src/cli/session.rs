//! What every verb that talks to a running galaxy starts with: find it, and a small runtime to
//! talk to it on.

use super::error::Error;
use crate::control::Control;
use crate::control::discovery::ControlArgs;

/// A single-threaded runtime for a verb that only talks to the control API.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::verb("starting the runtime", e))
}

/// The galaxy named by `control` (or the default discovery file), and a runtime to call it on.
pub fn connect(control: &ControlArgs) -> Result<(Control, tokio::runtime::Runtime), Error> {
    let c = Control::connect(control)?;
    Ok((c, runtime()?))
}
