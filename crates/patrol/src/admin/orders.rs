//! `patrol admin order …`: report incidents, show them, and act on them as the WeCom app's users
//! would.

use clap::{Args, Subcommand, ValueEnum};
use patrol_wire::admin::{LocationBody, OrderAction, OrderPage, ReportOrder, ResidentBody};
use patrol_wire::patrol::Order;

use super::CorpScope;
use super::client::Client;
use super::output;

#[derive(Debug, Args)]
pub(crate) struct OrderArgs {
    #[command(flatten)]
    scope: CorpScope,
    #[command(subcommand)]
    command: OrderCommand,
}

#[derive(Debug, Subcommand)]
enum OrderCommand {
    /// Report an incident; the grid's admins become its processors.
    Report(Box<ReportArgs>),
    /// List the corp's orders, newest first (as a table, or --json), filtered; --all follows
    /// the pages to the end.
    List(ListArgs),
    /// Show an order as WeCom's get_order_info would.
    Show {
        /// The order's id.
        order_id: String,
    },
    /// Act on an order as one of its processors or an admin of its grid.
    Act(ActArgs),
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The grid it happened in.
    #[arg(long, value_name = "G")]
    grid: String,
    /// The user reporting it.
    #[arg(long, value_name = "U")]
    reporter: String,
    /// What happened.
    #[arg(long, value_name = "TEXT")]
    desc: String,
    /// 1 normal (一般), 2 important (重要) or 3 urgent (紧急).
    #[arg(long, default_value_t = 1, value_name = "1|2|3",
          value_parser = clap::value_parser!(i64).range(1..=3))]
    urgency: i64,
    /// Its category.
    #[arg(long, value_name = "C")]
    category: Option<String>,
    /// Name of the place.
    #[arg(long, value_name = "NAME")]
    place: Option<String>,
    /// Address of the place.
    #[arg(long, value_name = "TEXT")]
    address: Option<String>,
    /// Latitude in degrees, -90 to 90.
    #[arg(
        long,
        value_name = "F",
        requires = "lng",
        allow_negative_numbers = true
    )]
    lat: Option<f64>,
    /// Longitude in degrees, -180 to 180.
    #[arg(
        long,
        value_name = "F",
        requires = "lat",
        allow_negative_numbers = true
    )]
    lng: Option<f64>,
    /// URL of an image; repeat for more.
    #[arg(long = "image", value_name = "URL")]
    images: Vec<String>,
    /// Media id of an image uploaded with `media/upload` (patrol serves it); repeat for more.
    #[arg(long = "image-media", value_name = "ID")]
    image_media: Vec<String>,
    /// Media id of a video; repeat for more.
    #[arg(long = "video", value_name = "ID")]
    videos: Vec<String>,
    /// The order's id [default: 32 random hex digits].
    #[arg(long, value_name = "ID")]
    order_id: Option<String>,
    /// When it was reported, in Unix seconds [default: now].
    #[arg(long, value_name = "UNIX")]
    time: Option<i64>,
    /// Make it a resident report (居民上报), entered by --reporter for this resident.
    #[arg(long)]
    resident: bool,
    /// The resident's name (with --resident).
    #[arg(long, value_name = "NAME", requires = "resident")]
    resident_name: Option<String>,
    /// The resident's mobile number (with --resident).
    #[arg(long, value_name = "NUMBER", requires = "resident")]
    resident_mobile: Option<String>,
    /// The resident's WeChat unionid (with --resident).
    #[arg(long, value_name = "ID", requires = "resident")]
    unionid: Option<String>,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only orders at this stage: new, processing (accepted, assigned, transferred or in
    /// progress), done, rejected, open (new or processing) or closed (done or rejected).
    #[arg(long, value_name = "STATE",
          value_parser = ["new", "processing", "done", "rejected", "open", "closed"])]
    state: Option<String>,
    /// Only orders reported in this grid (not in the grids under it).
    #[arg(long, value_name = "G")]
    grid: Option<String>,
    /// Only orders of this category (not of its children).
    #[arg(long, value_name = "C")]
    category: Option<String>,
    /// Only orders of this urgency: normal (1), important (2) or urgent (3).
    #[arg(long, value_name = "URGENCY", value_parser = parse_urgency)]
    urgency: Option<i64>,
    /// Only orders created at or after TIME: Unix seconds or a date/time (as `patrol orders
    /// list --created-since`).
    #[arg(long, value_name = "TIME", value_parser = crate::orders::time::parse_since)]
    since: Option<i64>,
    /// Only orders created before TIME (the forms of --since).
    #[arg(long, value_name = "TIME", value_parser = crate::orders::time::parse_since)]
    until: Option<i64>,
    /// Orders a page, 1 to 200 [default: 50].
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// Start at this page (the `next_cursor` of the last one).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
    cursor: Option<String>,
    /// Follow the pages to the last one; with --json, all the orders in one page object.
    #[arg(long)]
    all: bool,
}

/// An urgency as its name or its `urge_type`.
fn parse_urgency(text: &str) -> Result<i64, String> {
    match text {
        "normal" | "1" => Ok(1),
        "important" | "2" => Ok(2),
        "urgent" | "3" => Ok(3),
        _ => Err("expected normal, important, urgent, 1, 2 or 3".to_owned()),
    }
}

impl ListArgs {
    /// The query string of the first page.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                query.push((name, value));
            }
        };
        add("state", self.state.clone());
        add("grid_id", self.grid.clone());
        add("category_id", self.category.clone());
        add("urge_type", self.urgency.map(|u| u.to_string()));
        add("since", self.since.map(|t| t.to_string()));
        add("until", self.until.map(|t| t.to_string()));
        add("limit", self.limit.map(|l| l.to_string()));
        add("cursor", self.cursor.clone());
        query
    }
}

/// `patrol admin order list`: one page, or every page with --all; a table, or the answer as it
/// is with --json (all the orders of --all in one page object).
#[allow(clippy::print_stdout)]
async fn list(client: &Client, corpid: &str, args: &ListArgs) -> anyhow::Result<()> {
    let segments = ["corps", corpid, "orders"];
    let mut query = args.query();
    let mut orders: Vec<serde_json::Value> = Vec::new();
    let next_cursor = loop {
        let text = client.get_text(&segments, &query).await?;
        if client.prints_json() && !args.all {
            print!("{text}{}", if text.ends_with('\n') { "" } else { "\n" });
            return Ok(());
        }
        let page: OrderPage<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("cannot read the answer: is it a patrol server of this version? ({e})")
        })?;
        orders.extend(page.orders);
        match page.next_cursor {
            Some(cursor) if args.all => {
                query.retain(|(name, _)| *name != "cursor");
                query.push(("cursor", cursor));
            }
            next => break next,
        }
    };
    if client.prints_json() {
        let page = OrderPage {
            orders,
            next_cursor,
        };
        println!("{}", serde_json::to_string(&page)?);
        return Ok(());
    }
    let orders: Vec<Order> = orders
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("an order of the answer is not WeCom's shape: {e}"))?;
    if orders.is_empty() {
        println!("no orders");
    } else {
        print!("{}", crate::orders::output::order_table(&orders));
    }
    if let Some(cursor) = next_cursor {
        eprintln!("more orders follow: --cursor {cursor}, or --all");
    }
    Ok(())
}

/// What an actor does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Action {
    /// Accept it (受理): the actor becomes its processor.
    Accept,
    /// Assign it to --user U…, who become its processors.
    Assign,
    /// Transfer it to --user U…, who become its processors.
    Transfer,
    /// Start working on it (处理中).
    Start,
    /// Finish it (办结): the order is done.
    Finish,
    /// Reject it (驳回): the order is rejected.
    Reject,
}

impl Action {
    /// The action as the administration API spells it.
    fn wire(self) -> String {
        match self {
            Action::Accept => "accept",
            Action::Assign => "assign",
            Action::Transfer => "transfer",
            Action::Start => "start",
            Action::Finish => "finish",
            Action::Reject => "reject",
        }
        .to_owned()
    }

    fn done(self) -> &'static str {
        match self {
            Action::Accept => "accepted",
            Action::Assign => "assigned",
            Action::Transfer => "transferred",
            Action::Start => "started",
            Action::Finish => "finished",
            Action::Reject => "rejected",
        }
    }
}

#[derive(Debug, Args)]
struct ActArgs {
    /// The order's id.
    order_id: String,
    /// What to do.
    #[arg(value_enum)]
    action: Action,
    /// Who acts: a current processor or an admin of the order's grid.
    #[arg(long, value_name = "U")]
    actor: String,
    /// For assign and transfer: who takes the order over; repeat the flag or separate userids
    /// with commas.
    #[arg(
        long = "user",
        value_name = "U",
        value_delimiter = ',',
        required_if_eq_any = [("action", "assign"), ("action", "transfer")]
    )]
    users: Vec<String>,
    /// A comment on the step.
    #[arg(long, value_name = "TEXT")]
    desc: Option<String>,
    /// URL of an image; repeat for more.
    #[arg(long = "image", value_name = "URL")]
    images: Vec<String>,
    /// Media id of an image uploaded with `media/upload` (patrol serves it); repeat for more.
    #[arg(long = "image-media", value_name = "ID")]
    image_media: Vec<String>,
    /// Media id of a video; repeat for more.
    #[arg(long = "video", value_name = "ID")]
    videos: Vec<String>,
    /// When it happened, in Unix seconds, not before the order's last step [default: now].
    #[arg(long, value_name = "UNIX")]
    time: Option<i64>,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(client: &Client, args: OrderArgs) -> anyhow::Result<()> {
    let corpid = args.scope.corpid()?;
    match args.command {
        OrderCommand::Report(report) => {
            let report = *report;
            let body = ReportOrder {
                order_id: report.order_id,
                description: report.desc,
                urge_type: Some(report.urgency),
                category_id: report.category,
                grid_id: report.grid,
                location: LocationBody {
                    name: report.place.unwrap_or_default(),
                    address: report.address.unwrap_or_default(),
                    latitude: report.lat.unwrap_or(0.0),
                    longitude: report.lng.unwrap_or(0.0),
                },
                reporter: report.reporter,
                image_urls: report.images,
                image_media_ids: report.image_media,
                video_media_ids: report.videos,
                time: report.time,
                resident: report.resident.then(|| ResidentBody {
                    name: report.resident_name.unwrap_or_default(),
                    mobile: report.resident_mobile.unwrap_or_default(),
                    unionid: report.unionid.unwrap_or_default(),
                }),
            };
            if let Some(order) = client
                .post::<Order>(&["corps", corpid, "orders"], &body)
                .await?
            {
                println!(
                    "reported order {} in grid {} ({}) of {corpid}; {}",
                    order.order_id,
                    order.grid_id,
                    order.grid_name,
                    state(&order)
                );
            }
        }
        OrderCommand::List(list_args) => list(client, corpid, &list_args).await?,
        OrderCommand::Show { order_id } => {
            if let Some(order) = client
                .get::<Order>(&["corps", corpid, "orders", &order_id])
                .await?
            {
                print_order(&order);
            }
        }
        OrderCommand::Act(act) => {
            let body = OrderAction {
                action: act.action.wire(),
                actor: act.actor.clone(),
                description: act.desc.unwrap_or_default(),
                users: (!act.users.is_empty()).then(|| act.users.clone()),
                image_urls: act.images,
                image_media_ids: act.image_media,
                video_media_ids: act.videos,
                time: act.time,
            };
            let path = ["corps", corpid, "orders", &act.order_id, "actions"];
            if let Some(order) = client.post::<Order>(&path, &body).await? {
                let to = match act.action {
                    Action::Assign | Action::Transfer => format!(" to {}", act.users.join(", ")),
                    _ => String::new(),
                };
                println!(
                    "{} order {}{to} as {}; {}",
                    act.action.done(),
                    order.order_id,
                    act.actor,
                    state(&order)
                );
            }
        }
    }
    Ok(())
}

/// The order's state in the CLI's one vocabulary (`patrol orders` shows the same), with its
/// processors while someone has to act: `assigned, processors: lisi`, `done`.
fn state(order: &Order) -> String {
    let state = crate::orders::output::state(order);
    if order.processor_userids.is_empty() {
        state.to_owned()
    } else {
        format!(
            "{state}, processors: {}",
            order.processor_userids.join(", ")
        )
    }
}

fn urgency(urge_type: i64) -> &'static str {
    match urge_type {
        1 => "normal",
        2 => "important",
        3 => "urgent",
        _ => "unknown",
    }
}

/// An order, field by field, then its history as a table.
#[allow(clippy::print_stdout)]
fn print_order(order: &Order) {
    let location = &order.location;
    println!("order       {}", order.order_id);
    println!("desc        {}", order.desc);
    println!(
        "urgency     {} ({})",
        order.urge_type,
        urgency(order.urge_type)
    );
    println!(
        "category    {}",
        if order.case_name.is_empty() {
            "-"
        } else {
            &order.case_name
        }
    );
    println!("grid        {} ({})", order.grid_id, order.grid_name);
    println!("created     {}", output::unix_and_time(order.create_time));
    println!(
        "location    {} | {} | {}, {}",
        location.name, location.address, location.latitude, location.longitude
    );
    println!("images      {}", output::list(&order.image_urls));
    println!("videos      {}", output::list(&order.video_media_ids));
    println!("state       {}", state(order));
    println!();
    let rows: Vec<Vec<String>> = order
        .process_list
        .iter()
        .map(|step| {
            vec![
                crate::orders::output::step_name(step.process_type).to_owned(),
                crate::orders::output::step_status(step.status).to_owned(),
                if step.solve_userid.is_empty() {
                    "-".to_owned()
                } else {
                    step.solve_userid.clone()
                },
                if step.solved_time == 0 {
                    "-".to_owned()
                } else {
                    output::time(step.solved_time)
                },
                step.process_desc.clone(),
            ]
        })
        .collect();
    output::print_table(&["STEP", "STATUS", "BY", "AT", "DESC"], &rows, "no steps");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_is_sent_as_its_argument_spells_it() {
        for action in Action::value_variants() {
            let argument = action.to_possible_value().unwrap();
            assert_eq!(action.wire(), argument.get_name());
        }
    }
}
