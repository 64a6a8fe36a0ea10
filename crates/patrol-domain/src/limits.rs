//! WeCom's limits (wecom-reference.md §5) and patrol's rules on ids, names, times, texts and media,
//! as pure checks that every backend and the administration API call before they write.

use crate::{Media, Rejection};

/// Longest grid or category name, in characters.
pub const MAX_NAME_CHARS: usize = 30;
/// Deepest grid: a root is at level 1.
pub const MAX_GRID_DEPTH: usize = 10;
/// Most admins of one grid; a grid has at least one.
pub const MAX_GRID_ADMINS: usize = 20;
/// Most members of one grid.
pub const MAX_GRID_MEMBERS: usize = 100;
/// Most grids one user is an admin of.
pub const MAX_MANAGED_GRIDS: usize = 10;
/// Longest id given by a caller (corpid, userid, grid_id, category_id, order_id), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest name of a corp, an app or a user, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// The first agentid handed out when none is asked for.
pub const FIRST_AGENTID: i64 = 1_000_002;
/// The largest agentid: WeCom's agentids are positive 32-bit integers, so agentids are
/// 1 to 2^31 − 1.
pub const MAX_AGENTID: i64 = i32::MAX as i64;

/// The earliest time a caller may give (a report, an action, a corp's creation):
/// 2000-01-01 00:00:00 UTC, in Unix seconds.
pub const MIN_TIME: i64 = 946_684_800;
/// How far past the server's clock a given time may be, in seconds (one day): enough for a
/// client's clock or time zone to be off, and short enough that an order acted on "in the
/// future" takes actions at the current time again after at most a day (no action may be
/// earlier than an order's last step).
pub const MAX_TIME_AHEAD: i64 = 86_400;
/// The latest time the server's clock may be set or advanced to: 2100-01-01 00:00:00 UTC (still
/// within WeCom's 32-bit unsigned times), in Unix seconds. The earliest is [`MIN_TIME`].
pub const MAX_CLOCK_TIME: i64 = 4_102_444_800;

/// Most `image_urls` of one report or action.
pub const MAX_IMAGE_URLS: usize = 9;
/// Most `video_media_ids` of one report or action.
pub const MAX_VIDEO_MEDIA_IDS: usize = 9;
/// Longest image URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest video media id, in bytes.
pub const MAX_MEDIA_ID_BYTES: usize = 128;
/// Longest description of a report or of an action, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Longest name or address of an order's location, in characters.
pub const MAX_PLACE_CHARS: usize = 200;

/// Most users an order is handed to by one assign or transfer (as many as a grid's members).
pub const MAX_HANDED_USERS: usize = 100;
/// Most steps of one order (its report included): with each step's text and media capped, an
/// order's wire JSON stays within a few MB however often it is acted on.
pub const MAX_STEPS: usize = 100;
/// Most order ids a message names (the first ones, and a count of all).
pub const MAX_NAMED_ORDERS: usize = 10;

/// The characters besides letters and digits a userid may hold.
pub const USERID_EXTRA: &[char] = &['-', '_', '.', '@'];
/// The characters besides letters and digits the other ids may hold.
pub const ID_EXTRA: &[char] = &['-', '_'];

fn invalid(message: String) -> Rejection {
    Rejection::Invalid(message)
}

/// Which of WeCom's limits on grids and categories a write breaks ([`Rejection::Limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// A grid or category name: 1 to 30 visible characters.
    Name,
    /// Grids are at most [`MAX_GRID_DEPTH`] levels deep.
    GridDepth,
    /// A grid has 1 to [`MAX_GRID_ADMINS`] admins.
    GridAdmins,
    /// A grid has at most [`MAX_GRID_MEMBERS`] members.
    GridMembers,
    /// A user is an admin of at most [`MAX_MANAGED_GRIDS`] grids.
    ManagedGrids,
    /// Categories have two levels: a parent is a level-1 category.
    CategoryLevel,
}

fn over(limit: Limit, message: String) -> Rejection {
    Rejection::Limit { limit, message }
}

/// An id given by a caller: 1 to 64 characters of ASCII letters, digits and `extra`.
pub fn check_id(what: &str, id: &str, extra: &[char]) -> Result<(), Rejection> {
    let valid = !id.is_empty()
        && id.chars().count() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c));
    if valid {
        return Ok(());
    }
    let allowed: String = extra.iter().map(|c| format!(" {c}")).collect();
    Err(invalid(format!(
        "{what} {id:?} must be 1 to {MAX_ID_CHARS} characters of letters, digits and{allowed}"
    )))
}

/// A userid, as WeCom's member API has it: 1 to 64 characters of ASCII letters, digits, `-`,
/// `_`, `.` and `@`, the first a letter or a digit (so `.` and `..` are no userids).
pub fn check_userid(userid: &str) -> Result<(), Rejection> {
    check_id("userid", userid, USERID_EXTRA)?;
    if !userid.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid(format!(
            "userid {userid:?} must begin with a letter or a digit"
        )));
    }
    Ok(())
}

/// Whether a character is a bidirectional-text control: the embeddings and overrides
/// (U+202A–U+202E), the isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C). A name
/// holding one can show as something else than it is.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether a character shows nothing by itself: white space, the zero-width characters
/// (U+200B–U+200D, U+2060–U+2064, U+FEFF), the soft hyphen, the Mongolian vowel separator, the
/// combining grapheme joiner, the variation selectors and the Hangul fillers.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{00AD}'
                | '\u{180E}'
                | '\u{034F}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{FFA0}'
        )
}

/// A name of at most `max` characters that shows what it is: no control character (NUL, a line
/// break, …), no bidirectional control, and something visible besides white space and
/// zero-width characters.
fn check_visible_name(what: &str, name: &str, max: usize) -> Result<(), String> {
    let chars = name.chars().count();
    if chars > max || name.chars().all(is_invisible) {
        return Err(format!(
            "{what} name must be 1 to {max} characters, not all blank or invisible, got {chars}"
        ));
    }
    if let Some(c) = name.chars().find(|&c| c.is_control() || is_bidi_control(c)) {
        return Err(format!(
            "{what} name must not hold the control character U+{:04X}",
            u32::from(c)
        ));
    }
    Ok(())
}

/// A grid or category name: 1 to 30 characters, visible (see [`check_display_name`]).
pub fn check_name(what: &str, name: &str) -> Result<(), Rejection> {
    check_visible_name(what, name, MAX_NAME_CHARS).map_err(|message| over(Limit::Name, message))
}

/// The name of a corp, an app or a user: 1 to 64 characters, with no control character (NUL, a
/// line break, …) or bidirectional control (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
/// U+061C), and not made only of white space and invisible characters (U+200B–U+200D,
/// U+2060–U+2064, U+FEFF, …).
pub fn check_display_name(what: &str, name: &str) -> Result<(), Rejection> {
    check_visible_name(what, name, MAX_DISPLAY_NAME_CHARS).map_err(invalid)
}

/// A time a caller gave for `what` (a report, an action, a corp's creation), in Unix seconds:
/// from [`MIN_TIME`] (2000-01-01) to [`MAX_TIME_AHEAD`] (a day) past `now`.
pub fn check_time(what: &str, time: i64, now: i64) -> Result<i64, Rejection> {
    let latest = now.saturating_add(MAX_TIME_AHEAD);
    if (MIN_TIME..=latest).contains(&time) {
        return Ok(time);
    }
    Err(invalid(format!(
        "{what} {time} must be from {MIN_TIME} (2000-01-01) to {latest} (a day from now), in Unix \
         seconds"
    )))
}

/// The time the server's clock would read after a set or an advance: from [`MIN_TIME`]
/// (2000-01-01) to [`MAX_CLOCK_TIME`] (2100-01-01), both included.
pub fn check_clock_time(time: i64) -> Result<i64, Rejection> {
    if (MIN_TIME..=MAX_CLOCK_TIME).contains(&time) {
        return Ok(time);
    }
    Err(invalid(format!(
        "the clock would read {time}: it must be from {MIN_TIME} (2000-01-01) to {MAX_CLOCK_TIME} \
         (2100-01-01), in Unix seconds"
    )))
}

/// The agentid of a new app when none is asked for: one more than the corp's `largest`, or
/// [`FIRST_AGENTID`] when that is more; refused when it would pass [`MAX_AGENTID`].
pub fn next_agentid(largest: Option<i64>) -> Result<i64, Rejection> {
    let next = largest
        .map_or(FIRST_AGENTID, |largest| largest.saturating_add(1))
        .max(FIRST_AGENTID);
    if next > MAX_AGENTID {
        return Err(invalid(format!(
            "no agentid is left after the corp's largest, {}: agentids are 1 to {MAX_AGENTID}; \
             give the new app's agentid",
            largest.unwrap_or_default()
        )));
    }
    Ok(next)
}

/// The description of a report or an action: at most 2000 characters, without U+0000 (no text
/// of WeCom's holds it, and PostgreSQL's text cannot).
pub fn check_description(what: &str, description: &str) -> Result<(), Rejection> {
    if description.contains('\0') {
        return Err(invalid(format!(
            "{what} description must not hold the character U+0000"
        )));
    }
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(invalid(format!(
            "{what} description must be at most {MAX_DESCRIPTION_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

/// A location's name or address: at most 200 characters, without U+0000.
pub fn check_place(what: &str, text: &str) -> Result<(), Rejection> {
    if text.contains('\0') {
        return Err(invalid(format!(
            "location {what} must not hold the character U+0000"
        )));
    }
    let chars = text.chars().count();
    if chars > MAX_PLACE_CHARS {
        return Err(invalid(format!(
            "location {what} must be at most {MAX_PLACE_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

/// A resident reporter's name: at most this many characters.
pub const MAX_RESIDENT_NAME_CHARS: usize = 64;
/// A resident reporter's mobile number: at most this many characters.
pub const MAX_MOBILE_CHARS: usize = 32;
/// A WeChat unionid: at most this many characters.
pub const MAX_UNIONID_CHARS: usize = 64;

/// The resident who reported a resident order: a name of at most 64 characters, a mobile
/// number of at most 32 (digits, `+`, `-` and spaces) and a unionid of at most 64 ASCII letters,
/// digits, `-` or `_`; any of them may be empty.
pub fn check_resident(resident: &crate::Resident) -> Result<(), Rejection> {
    let name = resident.name.chars().count();
    if name > MAX_RESIDENT_NAME_CHARS || resident.name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "reporter_name must be at most {MAX_RESIDENT_NAME_CHARS} characters without control characters"
        )));
    }
    if resident.mobile.len() > MAX_MOBILE_CHARS
        || !resident
            .mobile
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
    {
        return Err(invalid(format!(
            "reporter_mobile must be at most {MAX_MOBILE_CHARS} digits, '+', '-' or spaces"
        )));
    }
    if resident.unionid.len() > MAX_UNIONID_CHARS
        || !resident
            .unionid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Err(invalid(format!(
            "unionid must be at most {MAX_UNIONID_CHARS} ASCII letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

/// The media of a report or an action (`what`): at most 9 image URLs, each an `http://` or
/// `https://` URL of at most 2048 bytes without white space or control characters, and at most
/// 9 video media ids, each 1 to 128 ASCII letters, digits, `-`, `_`, `.` or `@`.
pub fn check_media(what: &str, media: &Media) -> Result<(), Rejection> {
    let images = media.image_urls.len();
    if images > MAX_IMAGE_URLS {
        return Err(invalid(format!(
            "a {what} has at most {MAX_IMAGE_URLS} image_urls, got {images}"
        )));
    }
    for url in &media.image_urls {
        check_image_url(url)?;
    }
    let videos = media.video_media_ids.len();
    if videos > MAX_VIDEO_MEDIA_IDS {
        return Err(invalid(format!(
            "a {what} has at most {MAX_VIDEO_MEDIA_IDS} video_media_ids, got {videos}"
        )));
    }
    for id in &media.video_media_ids {
        let valid = !id.is_empty()
            && id.len() <= MAX_MEDIA_ID_BYTES
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || USERID_EXTRA.contains(&c));
        if !valid {
            return Err(invalid(format!(
                "video_media_id {:?} must be 1 to {MAX_MEDIA_ID_BYTES} letters, digits, - _ . or @",
                shorten(id)
            )));
        }
    }
    Ok(())
}

fn check_image_url(url: &str) -> Result<(), Rejection> {
    if crate::media::is_served_image_url(url) && url.len() <= MAX_URL_BYTES {
        return Ok(());
    }
    if url.len() > MAX_URL_BYTES {
        return Err(invalid(format!(
            "image URL {:?} is {} bytes, more than {MAX_URL_BYTES}",
            shorten(url),
            url.len()
        )));
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        ""
    };
    let host_present = !rest.is_empty() && !rest.starts_with('/');
    if !host_present || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "image URL {:?} must be an http:// or https:// URL without white space",
            shorten(url)
        )));
    }
    Ok(())
}

/// Why user `userid` cannot be deleted: a current processor of `count` open orders, of which
/// `named` are the first (at most [`MAX_NAMED_ORDERS`]).
pub fn held_orders_message(userid: &str, named: &[String], count: usize) -> String {
    let orders = if count == 1 { "order" } else { "orders" };
    let more = count.saturating_sub(named.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "user {userid} is still a processor of {count} open {orders}: {}{more}; finish, reject or \
         transfer them first",
        named.join(", ")
    )
}

/// The first 64 characters of a long value, for a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What a user is to a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridRole {
    /// 负责人: receives the grid's new orders.
    Admin,
    Member,
}

impl GridRole {
    /// The role's name in storage and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            GridRole::Admin => "admin",
            GridRole::Member => "member",
        }
    }
}

/// A grid's admins or members: duplicates dropped (first kept, order kept), then counted against
/// WeCom's limits (1 to 20 admins, up to 100 members).
pub fn grid_users(role: GridRole, users: &[String]) -> Result<Vec<&String>, Rejection> {
    let unique = unique(users);
    let (low, high, limit) = match role {
        GridRole::Admin => (1, MAX_GRID_ADMINS, Limit::GridAdmins),
        GridRole::Member => (0, MAX_GRID_MEMBERS, Limit::GridMembers),
    };
    if unique.len() < low || unique.len() > high {
        return Err(over(
            limit,
            format!(
                "a grid has {low} to {high} {}s, got {}",
                role.as_str(),
                unique.len()
            ),
        ));
    }
    Ok(unique)
}

/// Making `userid` an admin of one more grid, when it is an admin of `managed` others already:
/// at most [`MAX_MANAGED_GRIDS`] in all.
pub fn check_managed_grids(userid: &str, managed: usize) -> Result<(), Rejection> {
    if managed + 1 > MAX_MANAGED_GRIDS {
        return Err(over(
            Limit::ManagedGrids,
            format!(
                "user {userid} is an admin of {managed} grids already, the most a user manages \
                 is {MAX_MANAGED_GRIDS}"
            ),
        ));
    }
    Ok(())
}

/// The users an order is handed to (assign, transfer): duplicates dropped (first kept, order
/// kept), then at most [`MAX_HANDED_USERS`].
pub fn handed_users(users: &[String]) -> Result<Vec<&String>, Rejection> {
    let unique = unique(users);
    if unique.len() > MAX_HANDED_USERS {
        return Err(invalid(format!(
            "an order is handed to at most {MAX_HANDED_USERS} users, got {}",
            unique.len()
        )));
    }
    Ok(unique)
}

/// The first occurrence of every user, in order; linear, however long the list.
fn unique(users: &[String]) -> Vec<&String> {
    let mut seen = std::collections::HashSet::with_capacity(users.len());
    users.iter().filter(|user| seen.insert(*user)).collect()
}

/// A new grid under `parent`, which is at level `parent_depth` (a root is at 1).
pub fn check_new_grid_depth(parent: &str, parent_depth: usize) -> Result<(), Rejection> {
    if parent_depth + 1 > MAX_GRID_DEPTH {
        return Err(over(
            Limit::GridDepth,
            format!(
                "grids are at most {MAX_GRID_DEPTH} levels deep: {parent} is at the last level"
            ),
        ));
    }
    Ok(())
}

/// Moving grid `grid_id`, whose subtree is `height` levels high (1 for a leaf), under `parent`,
/// which is at level `parent_depth`; `parent_in_subtree` tells whether the new parent is the grid
/// itself or one of its descendants.
pub fn check_grid_move(
    grid_id: &str,
    parent: &str,
    parent_in_subtree: bool,
    parent_depth: usize,
    height: usize,
) -> Result<(), Rejection> {
    if parent_in_subtree {
        return Err(invalid(format!(
            "grid {grid_id} cannot move under itself or its descendant {parent}"
        )));
    }
    if parent_depth + height > MAX_GRID_DEPTH {
        return Err(over(
            Limit::GridDepth,
            format!(
                "grids are at most {MAX_GRID_DEPTH} levels deep: grid {grid_id} and its \
                 {height} levels do not fit under {parent}"
            ),
        ));
    }
    Ok(())
}

/// A category under `parent`, which is at `parent_level`: categories have two levels. Returns the
/// new category's level.
pub fn category_level(parent: Option<(&str, i64)>) -> Result<i64, Rejection> {
    match parent {
        None => Ok(1),
        Some((_, 1)) => Ok(2),
        Some((parent, _)) => Err(over(
            Limit::CategoryLevel,
            format!("category {parent} is not a level-1 category: categories have two levels"),
        )),
    }
}

/// Where a category moves (`update_cata`), from where it is (`current`, its parent's id) and what
/// was asked: `level` 1 (to the top level, so no `parent` may be given) or 2 (under `parent`, or
/// under its current parent when none is given), or only a `parent` (level 2 under it). Nothing
/// asked keeps it where it is. The new parent's own level is checked with [`category_level`] by
/// the store, which knows it.
pub fn category_parent(
    category_id: &str,
    current: Option<&str>,
    level: Option<i64>,
    parent: Option<&str>,
) -> Result<Option<String>, Rejection> {
    match (level, parent) {
        (Some(1), None) => Ok(None),
        (Some(1), Some(parent)) => Err(invalid(format!(
            "a level-1 category has no parent, got parent {parent}"
        ))),
        (Some(2) | None, Some(parent)) => Ok(Some(parent.to_owned())),
        (Some(2), None) => match current {
            Some(current) => Ok(Some(current.to_owned())),
            None => Err(invalid(format!(
                "category {category_id} is at level 1: a level-2 category needs its parent"
            ))),
        },
        (None, None) => Ok(current.map(str::to_owned)),
        (Some(level), _) => Err(invalid(format!(
            "a category's level is 1 or 2, got {level}"
        ))),
    }
}

/// Where a grid or category sits, for messages: `under g1` or `at the top level`.
pub fn place(parent: Option<&str>) -> String {
    match parent {
        Some(parent) => format!("under {parent}"),
        None => "at the top level".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_letters_digits_and_the_extras() {
        assert!(check_id("grid_id", "g-1_a", ID_EXTRA).is_ok());
        assert!(check_id("userid", "a.b@c", USERID_EXTRA).is_ok());
        assert!(check_id("grid_id", "a.b", ID_EXTRA).is_err());
        assert!(check_id("grid_id", "", ID_EXTRA).is_err());
        assert!(check_id("grid_id", &"x".repeat(65), ID_EXTRA).is_err());
        assert_eq!(
            check_id("grid_id", "网格", ID_EXTRA)
                .unwrap_err()
                .to_string(),
            "grid_id \"网格\" must be 1 to 64 characters of letters, digits and - _"
        );
    }

    #[test]
    fn names_and_grid_limits() {
        assert!(check_name("grid", &"格".repeat(30)).is_ok());
        assert!(check_name("grid", &"格".repeat(31)).is_err());
        assert!(check_name("grid", "  ").is_err());
        assert!(check_display_name("user", &"名".repeat(64)).is_ok());
        assert!(check_display_name("user", &"名".repeat(65)).is_err());
        let admins = ["a", "b", "a"].map(String::from);
        assert_eq!(grid_users(GridRole::Admin, &admins).unwrap().len(), 2);
        assert!(grid_users(GridRole::Admin, &[]).is_err());
        assert!(grid_users(GridRole::Member, &[]).is_ok());
        let many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        assert!(grid_users(GridRole::Member, &many).is_err());
        assert!(check_new_grid_depth("p", 9).is_ok());
        assert!(check_new_grid_depth("p", 10).is_err());
        assert!(check_grid_move("g", "p", false, 5, 5).is_ok());
        assert!(check_grid_move("g", "p", false, 5, 6).is_err());
        assert!(check_grid_move("g", "p", true, 1, 1).is_err());
        assert_eq!(category_level(None), Ok(1));
        assert_eq!(category_level(Some(("c", 1))), Ok(2));
        assert!(matches!(
            category_level(Some(("c", 2))),
            Err(Rejection::Limit {
                limit: Limit::CategoryLevel,
                ..
            })
        ));
        assert!(matches!(
            check_name("grid", &"格".repeat(31)),
            Err(Rejection::Limit {
                limit: Limit::Name,
                ..
            })
        ));
        assert!(matches!(
            check_display_name("user", &"名".repeat(65)),
            Err(Rejection::Invalid(_))
        ));
        assert!(matches!(
            grid_users(GridRole::Admin, &many),
            Err(Rejection::Limit {
                limit: Limit::GridAdmins,
                ..
            })
        ));
        assert!(matches!(
            grid_users(GridRole::Member, &many),
            Err(Rejection::Limit {
                limit: Limit::GridMembers,
                ..
            })
        ));
        assert!(matches!(
            check_new_grid_depth("p", 10),
            Err(Rejection::Limit {
                limit: Limit::GridDepth,
                ..
            })
        ));
        assert!(check_managed_grids("u", 9).is_ok());
        assert!(matches!(
            check_managed_grids("u", 10),
            Err(Rejection::Limit {
                limit: Limit::ManagedGrids,
                ..
            })
        ));
    }

    #[test]
    fn a_category_moves_by_its_level_and_parent() {
        assert_eq!(category_parent("c", Some("p"), Some(1), None), Ok(None));
        assert!(category_parent("c", Some("p"), Some(1), Some("q")).is_err());
        assert_eq!(
            category_parent("c", None, Some(2), Some("q")),
            Ok(Some("q".into()))
        );
        assert_eq!(
            category_parent("c", Some("p"), Some(2), None),
            Ok(Some("p".into()))
        );
        assert!(category_parent("c", None, Some(2), None).is_err());
        assert_eq!(
            category_parent("c", None, None, Some("q")),
            Ok(Some("q".into()))
        );
        assert_eq!(
            category_parent("c", Some("p"), None, None),
            Ok(Some("p".into()))
        );
        assert!(category_parent("c", None, Some(3), None).is_err());
    }

    #[test]
    fn userids_begin_with_a_letter_or_a_digit() {
        assert!(check_userid("zhang.wei@x").is_ok());
        assert!(check_userid("9").is_ok());
        for bad in [".", "..", ".a", "-a", "_a", "@a", "", "a b", "a/b"] {
            let error = check_userid(bad).unwrap_err().to_string();
            assert!(error.starts_with("userid"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn names_must_show_what_they_are() {
        for good in ["张三", "a b", "Zoë", "👍", "a\u{200B}b", "名\u{FE0F}"] {
            assert!(check_display_name("user", good).is_ok(), "{good:?}");
            assert!(check_name("grid", good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            " \u{3000}\u{00A0}\u{200B}",
            "\u{3164}",
            "\u{00AD}",
        ] {
            let error = check_display_name("user", bad).unwrap_err().to_string();
            assert!(error.contains("invisible"), "{bad:?}: {error}");
            assert!(check_name("grid", bad).is_err(), "{bad:?}");
        }
        for (bad, code) in [
            ("a\0b", "U+0000"),
            ("\0", "U+0000"),
            ("a\nb", "U+000A"),
            ("a\u{7F}", "U+007F"),
            ("a\u{85}", "U+0085"),
            ("\u{202E}abc", "U+202E"),
            ("abc\u{202A}", "U+202A"),
            ("\u{2066}x\u{2069}", "U+2066"),
            ("x\u{200F}", "U+200F"),
        ] {
            let error = check_display_name("user", bad).unwrap_err().to_string();
            assert!(error.contains(code), "{bad:?}: {error}");
            assert!(check_name("category", bad).is_err(), "{bad:?}");
        }
        // A lone override is both invisible and a control: refused either way.
        assert!(check_display_name("app", "\u{202E}").is_err());
    }

    #[test]
    fn times_are_from_2000_to_a_day_ahead() {
        let now = 1_700_000_000;
        assert_eq!(check_time("time", MIN_TIME, now), Ok(MIN_TIME));
        assert_eq!(check_time("time", now + DAY, now), Ok(now + DAY));
        for bad in [MIN_TIME - 1, -1, 0, now + DAY + 1, i64::MAX, i64::MIN] {
            let error = check_time("time", bad, now).unwrap_err().to_string();
            assert!(error.starts_with(&format!("time {bad} must be")), "{error}");
        }
        // A clock at the end of time does not overflow.
        assert_eq!(check_time("time", i64::MAX, i64::MAX), Ok(i64::MAX));
    }

    const DAY: i64 = 86_400;

    #[test]
    fn the_clock_is_set_from_2000_to_2100() {
        assert_eq!(check_clock_time(MIN_TIME), Ok(MIN_TIME));
        assert_eq!(check_clock_time(MAX_CLOCK_TIME), Ok(MAX_CLOCK_TIME));
        for bad in [MIN_TIME - 1, MAX_CLOCK_TIME + 1, i64::MIN, i64::MAX, 0] {
            let error = check_clock_time(bad).unwrap_err().to_string();
            assert!(error.contains(&bad.to_string()), "{error}");
        }
    }

    #[test]
    fn the_next_agentid_stays_within_range() {
        assert_eq!(next_agentid(None), Ok(FIRST_AGENTID));
        assert_eq!(next_agentid(Some(5)), Ok(FIRST_AGENTID));
        assert_eq!(next_agentid(Some(1_000_050)), Ok(1_000_051));
        assert_eq!(next_agentid(Some(MAX_AGENTID - 1)), Ok(MAX_AGENTID));
        for largest in [MAX_AGENTID, i64::MAX] {
            let error = next_agentid(Some(largest)).unwrap_err().to_string();
            assert!(error.contains("no agentid is left"), "{error}");
            assert!(error.contains(&largest.to_string()), "{error}");
        }
    }

    #[test]
    fn texts_and_media_are_capped() {
        assert!(check_description("a report's", &"字".repeat(2000)).is_ok());
        assert!(check_description("a report's", &"字".repeat(2001)).is_err());
        assert!(check_place("address", &"路".repeat(200)).is_ok());
        assert!(check_place("address", &"路".repeat(201)).is_err());

        let media = |images: Vec<String>, videos: Vec<String>| Media {
            image_urls: images,
            video_media_ids: videos,
        };
        let url = |path: &str| format!("https://patrol.test/{path}");
        assert!(check_media("report", &Media::default()).is_ok());
        let nine: Vec<String> = (0..9).map(|i| url(&format!("{i}.jpg"))).collect();
        assert!(check_media("report", &media(nine.clone(), nine_ids(9))).is_ok());
        let mut ten = nine.clone();
        ten.push(url("9.jpg"));
        let error = check_media("report", &media(ten, vec![]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("at most 9 image_urls, got 10"), "{error}");
        let error = check_media("action", &media(vec![], nine_ids(10)))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("at most 9 video_media_ids, got 10"),
            "{error}"
        );

        let longest = format!("http://a/{}", "x".repeat(MAX_URL_BYTES - 9));
        assert_eq!(longest.len(), MAX_URL_BYTES);
        assert!(check_media("report", &media(vec![longest.clone()], vec![])).is_ok());
        let too_long = format!("{longest}x");
        let error = check_media("report", &media(vec![too_long], vec![]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("2049 bytes, more than 2048"), "{error}");
        assert!(
            error.chars().count() < 200,
            "a long URL is shortened: {error}"
        );
        for good in [
            "HTTP://A/B.jpg",
            "https://x",
            "http://127.0.0.1:8080/media/images/a.jpg",
        ] {
            assert!(
                check_media("report", &media(vec![good.into()], vec![])).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "",
            "a.jpg",
            "/media/a.jpg",
            "ftp://x/a.jpg",
            "javascript:alert(1)",
            "http://",
            "https:///a",
            "http://a/b c.jpg",
            "http://a/\0",
            "http://a/\n",
        ] {
            let error = check_media("report", &media(vec![bad.into()], vec![]))
                .unwrap_err()
                .to_string();
            assert!(error.contains("image URL"), "{bad:?}: {error}");
        }
        for bad in ["", "a b", "a/b", "视频", &"m".repeat(129)] {
            let error = check_media("report", &media(vec![], vec![bad.to_string()]))
                .unwrap_err()
                .to_string();
            assert!(error.contains("video_media_id"), "{bad:?}: {error}");
        }
        assert!(check_media("report", &media(vec![], vec!["m".repeat(128)])).is_ok());
    }

    #[test]
    fn held_orders_are_named_up_to_ten() {
        assert_eq!(
            held_orders_message("u1", &["o1".into()], 1),
            "user u1 is still a processor of 1 open order: o1; finish, reject or transfer them \
             first"
        );
        let named: Vec<String> = (0..MAX_NAMED_ORDERS).map(|i| format!("o{i}")).collect();
        let message = held_orders_message("u1", &named, 12);
        assert!(
            message.contains("12 open orders: o0, o1, o2, o3, o4, o5, o6, o7, o8, o9 and 2 more;"),
            "{message}"
        );
    }

    #[test]
    fn long_user_lists_are_counted_in_linear_time() {
        let many: Vec<String> = (0..200_000).map(|i| format!("u{i}")).collect();
        assert!(grid_users(GridRole::Member, &many).is_err());
        assert!(handed_users(&many).is_err());
        let hundred: Vec<String> = (0..100).chain(0..100).map(|i| format!("u{i}")).collect();
        assert_eq!(handed_users(&hundred).unwrap().len(), 100);
    }

    fn nine_ids(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("3media-{i}")).collect()
    }
}
