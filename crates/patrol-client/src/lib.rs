//! A typed, paginating, retrying, token-caching client for WeCom's patrol-report API
//! (巡查上报), against WeCom itself or a patrol server.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use patrol_client::{Client, OrderQuery};
//!
//! # async fn run() -> Result<(), patrol_client::Error> {
//! let client = Client::builder()
//!     .base_url("http://127.0.0.1:8080") // omit for WeCom
//!     .corpid("wwpatroldemo000001")
//!     .secret("patrol-demo-secret-0123456789abcdefghijklmno")
//!     .build()?;
//!
//! // Every order, following next_cursor to the end.
//! let mut orders = Box::pin(client.orders(OrderQuery::default()));
//! while let Some(order) = orders.next().await {
//!     let order = order?;
//!     println!("{} {} {}", order.order_id, order.grid_name, order.desc);
//! }
//!
//! // The resident family (居民上报): the same calls under report/resident/.
//! let resident = client.resident();
//! let status = resident.corp_status(None).await?;
//! println!("{} pending, {} solved", status.pending.unwrap_or(0), status.total_solved);
//! for row in resident.category_statistic(None).await? {
//!     println!("{} {}/{}", row.category_name, row.total_solved, row.total_case);
//! }
//!
//! // One order, and matching on WeCom's error codes.
//! match client.get_order_info("no-such-order").await {
//!     Err(error) if error.errcode() == Some(patrol_client::codes::INVALID_PARAMETER) => {}
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What it does for you:
//! - **Tokens**: one per client (one app), fetched on first use, shared by clones, replaced ahead
//!   of expiry by a single request that concurrent callers wait for, and replaced once more when
//!   WeCom refuses it (40014, 42001) before the call is repeated.
//! - **Retries**: -1, 45009, 45033, network errors and 5xx pages are retried up to
//!   [`RetryPolicy::max_retries`] times with exponential backoff and full jitter.
//! - **Errors** you can match: [`Error::Api`] with WeCom's `errcode` (named in [`codes`]),
//!   [`Error::Transport`], [`Error::Decode`].
//! - **Both report families**: [`Client::patrol`] (巡查上报) and [`Client::resident`] (居民上报)
//!   bind a [`FamilyClient`] to one, with every call of the family: `grid_info`, `corp_status`,
//!   `user_status`, `category_statistic`, `order_list`, `order_info`, `pages`, `orders`. The
//!   status calls answer one type for both families ([`CorpStatus`], [`UserStatus`]), the
//!   counts of one family only as `Option`s. `Client`'s own order calls are the patrol family's.
//! - **Paging**: [`Client::orders`] and [`Client::pages`] follow `next_cursor` to the end.
//! - **Media**: [`Client::upload_media`] streams a file up; [`Client::download_media`] streams
//!   one down, resuming a partial file and fetching files over 20 MB in 20 MB ranges.
//! - **Grids and categories** (`report/grid/*`, an app on 「居民联系 - 可调用接口的应用」):
//!   [`Client::add_grid`], [`Client::update_grid`], [`Client::delete_grid`],
//!   [`Client::list_grids`], [`Client::get_user_grid_info`], [`Client::add_category`],
//!   [`Client::update_category`], [`Client::delete_category`], [`Client::list_categories`]
//!   (which reads `category_list` and the older `cata_list` alike).
//! - **Tolerance**: numbers sent as strings and strings sent as numbers, as WeCom's own
//!   documentation prints them, decode (see `patrol_wire::lenient`).
//!
//! `Debug` of a client or builder never shows the secret or the token, and errors never carry
//! the request's query string.
//!
//! The crate depends on `patrol-wire` and reqwest only, never on the server.

mod client;
mod error;
mod retry;

pub use client::{
    Client, ClientBuilder, CorpStatus, Download, Family, FamilyClient, MAX_RANGE_BYTES, OrderQuery,
    Page, UserStatus, WECOM_BASE_URL,
};
pub use error::{Error, Result, codes};
pub use patrol_wire::grid::{
    AddCategoryRequest, AddGridRequest, AddGridResponse, CategoryItem, GridItem, GridRef,
    UpdateCategoryRequest, UpdateGridRequest, UserGridInfoResponse,
};
pub use patrol_wire::media::UploadResponse;
pub use patrol_wire::patrol::{
    GetOrderListRequest, GetOrderListResponse, GridInfo, Location, Order, Process,
};
pub use patrol_wire::stats::CategoryDashboard;
pub use retry::RetryPolicy;
