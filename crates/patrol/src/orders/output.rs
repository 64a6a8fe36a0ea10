//! What `patrol orders` shows people: an order's state, a table of orders, an order line by line,
//! and the row of an order in a CSV export.

use crate::table::table;
use patrol_wire::patrol::Order;

use super::time;

/// An order's state, from its last step: `new`, `accepted`, `assigned`, `transferred`,
/// `in progress`, `done` or `rejected`: the one vocabulary of order states of every command
/// (decisions.md, "One vocabulary for order states"; `done` and `rejected` are the closed ones).
pub(crate) fn state(order: &Order) -> &'static str {
    match order.process_list.last().map(|step| step.process_type) {
        None | Some(1) => "new",
        Some(2) => "accepted",
        Some(3) => "assigned",
        Some(4) => "transferred",
        Some(5) => "done",
        Some(6) => "rejected",
        Some(7) => "in progress",
        Some(_) => "unknown",
    }
}

/// The time of the order's latest completed step (an open in-progress step has none yet), or 0.
pub(crate) fn last_step_time(order: &Order) -> i64 {
    order
        .process_list
        .iter()
        .rev()
        .map(|step| step.solved_time)
        .find(|&time| time != 0)
        .unwrap_or(0)
}

fn urgency(urge_type: i64) -> &'static str {
    match urge_type {
        1 => "normal",
        2 => "important",
        3 => "urgent",
        _ => "unknown",
    }
}

/// A step's status (`status`), in the glossary's words: `open` (处理中) or `completed` (已处理).
pub(crate) fn step_status(status: i64) -> &'static str {
    if status == 1 { "completed" } else { "open" }
}

/// A step by its process type, in the words of [`state`].
pub(crate) fn step_name(process_type: i64) -> &'static str {
    match process_type {
        1 => "reported",
        2 => "accepted",
        3 => "assigned",
        4 => "transferred",
        5 => "done",
        6 => "rejected",
        7 => "in progress",
        _ => "unknown step",
    }
}

/// Text from the server made safe for a terminal and one line: control characters (escape
/// sequences, line breaks, tabs) become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text`, or `-` when it is empty.
fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        clean(text)
    }
}

/// The first `count` characters of a one-line `text`, with `…` when it was longer.
fn first_chars(text: &str, count: usize) -> String {
    let text = clean(text);
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(count).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Whether an order is a resident order (居民上报): it carries its reporter's fields.
fn is_resident(order: &Order) -> bool {
    order.reporter_name.is_some() || order.reporter_mobile.is_some() || order.unionid.is_some()
}

/// An optional resident field, `-` when absent or empty.
fn or_dash_opt(text: Option<&String>) -> String {
    or_dash(text.map_or("", String::as_str))
}

/// The table `patrol orders list` prints on a terminal; resident orders get the columns REPORTER
/// and MOBILE before the description.
pub(crate) fn order_table(orders: &[Order]) -> String {
    let resident = orders.iter().any(is_resident);
    let rows: Vec<Vec<String>> = orders
        .iter()
        .map(|order| {
            let mut row = vec![
                clean(&order.order_id),
                time::show_minutes(order.create_time),
                urgency(order.urge_type).to_owned(),
                state(order).to_owned(),
                or_dash(&order.grid_name),
                or_dash(&order.case_name),
            ];
            if resident {
                row.push(or_dash_opt(order.reporter_name.as_ref()));
                row.push(or_dash_opt(order.reporter_mobile.as_ref()));
            }
            row.push(first_chars(&order.desc, 30));
            row
        })
        .collect();
    let mut headers = vec![
        "ORDER ID", "CREATED", "URGENCY", "STATE", "GRID", "CATEGORY",
    ];
    if resident {
        headers.extend(["REPORTER", "MOBILE"]);
    }
    headers.push("DESCRIPTION");
    table(&headers, &rows)
}

/// An order field by field, then its steps one per line, as `patrol orders show` prints it on a
/// terminal.
pub(crate) fn order_text(order: &Order) -> String {
    let location = &order.location;
    let list = |items: &[String], separator: &str| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            clean(&items.join(separator))
        }
    };
    let mut out = String::new();
    let mut line = |label: &str, value: String| {
        out.push_str(&format!("{label:<12}{value}\n"));
    };
    line("order", clean(&order.order_id));
    line("state", state(order).to_owned());
    line(
        "urgency",
        format!("{} ({})", urgency(order.urge_type), order.urge_type),
    );
    line("category", or_dash(&order.case_name));
    line(
        "grid",
        format!("{} ({})", or_dash(&order.grid_name), clean(&order.grid_id)),
    );
    line(
        "created",
        format!("{} ({})", time::show(order.create_time), order.create_time),
    );
    line("place", or_dash(&location.name));
    line("address", or_dash(&location.address));
    line(
        "coordinates",
        format!("{}, {}", location.latitude, location.longitude),
    );
    if is_resident(order) {
        line("reporter", or_dash_opt(order.reporter_name.as_ref()));
        line("mobile", or_dash_opt(order.reporter_mobile.as_ref()));
        line("unionid", or_dash_opt(order.unionid.as_ref()));
    }
    line("processors", list(&order.processor_userids, ", "));
    line("images", list(&order.image_urls, " "));
    line("videos", list(&order.video_media_ids, " "));
    line("description", clean(&order.desc));
    out.push('\n');
    out.push_str(&format!(
        "{} step{}:\n",
        order.process_list.len(),
        if order.process_list.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    for (i, step) in order.process_list.iter().enumerate() {
        let when = if step.solved_time == 0 {
            "open".to_owned()
        } else {
            time::show(step.solved_time)
        };
        let who = if step.solve_userid.is_empty() {
            String::new()
        } else {
            format!(" by {}", clean(&step.solve_userid))
        };
        let status = if step.status == 0 { " (open)" } else { "" };
        out.push_str(&format!(
            "  {:>2}. {when:<26}  {}{who}{status}",
            i + 1,
            step_name(step.process_type)
        ));
        if !step.process_desc.is_empty() {
            out.push_str(&format!(": {}", clean(&step.process_desc)));
        }
        out.push('\n');
        let media = step.image_urls.len() + step.video_media_ids.len();
        if media > 0 {
            out.push_str(&format!(
                "      {}\n",
                clean(
                    &step
                        .image_urls
                        .iter()
                        .chain(&step.video_media_ids)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            ));
        }
    }
    out
}

/// The columns of a CSV export; a resident export adds [`CSV_RESIDENT_HEADER`].
pub(crate) const CSV_HEADER: [&str; 17] = [
    "order_id",
    "create_time",
    "urge_type",
    "case_name",
    "grid_id",
    "grid_name",
    "desc",
    "location_name",
    "address",
    "latitude",
    "longitude",
    "processor_userids",
    "state",
    "steps",
    "last_step_time",
    "image_urls",
    "video_media_ids",
];

/// The columns a CSV export of resident orders has after [`CSV_HEADER`].
pub(crate) const CSV_RESIDENT_HEADER: [&str; 3] = ["reporter_name", "reporter_mobile", "unionid"];

/// The header of a CSV export: [`CSV_HEADER`], and [`CSV_RESIDENT_HEADER`] for resident orders.
pub(crate) fn csv_header(resident: bool) -> Vec<&'static str> {
    let mut header = CSV_HEADER.to_vec();
    if resident {
        header.extend(CSV_RESIDENT_HEADER);
    }
    header
}

/// An order as a row of a CSV export, in the columns of [`csv_header`]: the resident columns are
/// `""` for an order without them.
pub(crate) fn csv_row(order: &Order, resident: bool) -> Vec<String> {
    let mut row = csv_patrol_row(order).to_vec();
    if resident {
        for field in [&order.reporter_name, &order.reporter_mobile, &order.unionid] {
            row.push(field.clone().unwrap_or_default());
        }
    }
    row
}

/// An order as a row of a CSV export, in the columns of [`CSV_HEADER`]. Times are Unix seconds,
/// as WeCom sends them; text is as WeCom sent it.
fn csv_patrol_row(order: &Order) -> [String; 17] {
    [
        order.order_id.clone(),
        order.create_time.to_string(),
        order.urge_type.to_string(),
        order.case_name.clone(),
        order.grid_id.clone(),
        order.grid_name.clone(),
        order.desc.clone(),
        order.location.name.clone(),
        order.location.address.clone(),
        order.location.latitude.to_string(),
        order.location.longitude.to_string(),
        order.processor_userids.join(";"),
        state(order).to_owned(),
        order.process_list.len().to_string(),
        match last_step_time(order) {
            0 => String::new(),
            time => time.to_string(),
        },
        order.image_urls.join(" "),
        order.video_media_ids.join(" "),
    ]
}

#[cfg(test)]
mod tests {
    use patrol_wire::patrol::{Location, Process};

    use super::*;

    fn step(process_type: i64, status: i64, solved_time: i64) -> Process {
        Process {
            process_type,
            solve_userid: if status == 1 {
                "lisi".into()
            } else {
                String::new()
            },
            process_desc: String::new(),
            status,
            solved_time,
            image_urls: vec![],
            video_media_ids: vec![],
        }
    }

    fn order(steps: Vec<Process>) -> Order {
        Order {
            order_id: "o1".into(),
            desc: "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十多".into(),
            urge_type: 3,
            case_name: "路灯损坏".into(),
            grid_name: "古荡社区网格".into(),
            grid_id: "g1".into(),
            create_time: 1_793_462_400,
            image_urls: vec!["http://a/1.jpg".into(), "http://a/2.jpg".into()],
            video_media_ids: vec![],
            location: Location {
                name: "古荡新村".into(),
                address: "杭州市西湖区".into(),
                latitude: 30.280295,
                longitude: 120.126902,
            },
            processor_userids: vec!["lisi".into(), "wangwu".into()],
            process_list: steps,
            reporter_name: None,
            reporter_mobile: None,
            unionid: None,
        }
    }

    #[test]
    fn the_state_is_the_last_step() {
        assert_eq!(state(&order(vec![])), "new");
        assert_eq!(state(&order(vec![step(1, 1, 10)])), "new");
        for (kind, name) in [
            (2, "accepted"),
            (3, "assigned"),
            (4, "transferred"),
            (5, "done"),
            (6, "rejected"),
            (7, "in progress"),
        ] {
            assert_eq!(state(&order(vec![step(1, 1, 10), step(kind, 1, 20)])), name);
        }
    }

    #[test]
    fn the_last_step_time_skips_an_open_step() {
        let open = order(vec![step(1, 1, 10), step(2, 1, 20), step(7, 0, 0)]);
        assert_eq!(last_step_time(&open), 20);
        assert_eq!(last_step_time(&order(vec![])), 0);
    }

    #[test]
    fn a_csv_row_has_every_column() {
        let row = csv_row(&order(vec![step(1, 1, 10), step(7, 0, 0)]), false);
        assert_eq!(row.len(), CSV_HEADER.len());
        assert_eq!(row[1], "1793462400");
        assert_eq!(row[9], "30.280295");
        assert_eq!(row[11], "lisi;wangwu");
        assert_eq!(row[12], "in progress");
        assert_eq!(row[13], "2");
        assert_eq!(row[14], "10");
        assert_eq!(row[15], "http://a/1.jpg http://a/2.jpg");
        assert_eq!(row[16], "");
    }

    #[test]
    fn the_table_cuts_descriptions_and_aligns_wide_characters() {
        let table = order_table(&[order(vec![step(1, 1, 10)])]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ORDER ID  CREATED"), "{table}");
        assert!(
            lines[1].starts_with("o1        2026-11-01 00:00"),
            "{table}"
        );
        assert!(
            lines[1].ends_with("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十…"),
            "{table}"
        );
        // The description column starts at the same display column on both lines.
        let column = |line: &str, prefix_end: &str| {
            crate::table::width(&line[..line.find(prefix_end).unwrap()])
        };
        assert_eq!(column(lines[0], "DESCRIPTION"), column(lines[1], "一二三"));
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut evil = order(vec![step(1, 1, 10)]);
        evil.desc = "a\x1b[2Jb\nc".into();
        evil.grid_name = "\tg".into();
        let text = order_text(&evil) + &order_table(std::slice::from_ref(&evil));
        assert!(!text.contains('\x1b') && !text.contains('\t'), "{text:?}");
        assert!(text.contains("a [2Jb c"), "{text}");
    }

    #[test]
    fn the_text_shows_every_step() {
        let text = order_text(&order(vec![step(1, 1, 1_793_462_400), step(7, 0, 0)]));
        assert!(text.contains("state       in progress\n"), "{text}");
        assert!(
            text.contains(" 1. 2026-11-01 00:00:00 +08:00  reported by lisi\n"),
            "{text}"
        );
        assert!(text.contains(" 2. open"), "{text}");
        assert!(text.contains("in progress (open)"), "{text}");
    }

    fn resident(steps: Vec<Process>) -> Order {
        Order {
            reporter_name: Some("王五".into()),
            reporter_mobile: Some("13800000000".into()),
            unionid: Some(String::new()),
            ..order(steps)
        }
    }

    #[test]
    fn resident_orders_show_their_reporter() {
        let order = resident(vec![step(1, 1, 10)]);
        let table = order_table(std::slice::from_ref(&order));
        let lines: Vec<&str> = table.lines().collect();
        assert!(
            lines[0].contains("CATEGORY  REPORTER  MOBILE       DESCRIPTION"),
            "{table}"
        );
        assert!(
            lines[1].contains("王五      13800000000  一二三"),
            "{table}"
        );
        let text = order_text(&order);
        assert!(text.contains("reporter    王五\n"), "{text}");
        assert!(text.contains("mobile      13800000000\n"), "{text}");
        assert!(text.contains("unionid     -\n"), "{text}");
        // Patrol orders show none of it.
        let patrol = order_table(&[self::order(vec![])]) + &order_text(&self::order(vec![]));
        assert!(
            !patrol.contains("REPORTER") && !patrol.contains("reporter "),
            "{patrol}"
        );

        let header = csv_header(true);
        let row = csv_row(&order, true);
        assert_eq!(row.len(), header.len());
        assert_eq!(
            header[17..],
            ["reporter_name", "reporter_mobile", "unionid"]
        );
        assert_eq!(row[17..], ["王五", "13800000000", ""]);
        assert_eq!(csv_header(false), CSV_HEADER);
    }
}
