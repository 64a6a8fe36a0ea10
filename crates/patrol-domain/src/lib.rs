//! patrol's domain, with no I/O: validated ids ([`OrderId`], [`UserId`], …), the things it stores
//! ([`NewOrder`], [`Grid`], [`App`], …),
//! WeCom's limits on them ([`limits`]), the workflow of an order ([`OrderState`]), the one
//! rendering of an order's wire JSON ([`OrderState::render`]) and the one [`Clock`].
//!
//! Every store backend takes and returns these types and calls these rules; a backend only
//! stores and loads.

mod clock;
mod ids;
pub mod limits;
pub mod media;
mod model;
mod workflow;

pub use clock::{Clock, ClockChange, ClockMode, ClockReading};
pub use ids::{AgentId, CategoryId, CorpId, GridId, OrderId, UserId};
pub use model::*;
pub mod stats;
pub use workflow::{Acted, GridView, OrderState, Rejection, Stage, Step, check_location};
