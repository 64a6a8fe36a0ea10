//! WeCom's limits (wecom-reference.md §5) and patrol's rules on ids and names, as pure checks
//! that every backend and the administration API call before they write.

use crate::Rejection;

/// Longest grid or category name, in characters.
pub const MAX_NAME_CHARS: usize = 30;
/// Deepest grid: a root is at level 1.
pub const MAX_GRID_DEPTH: usize = 10;
/// Most admins of one grid; a grid has at least one.
pub const MAX_GRID_ADMINS: usize = 20;
/// Most members of one grid.
pub const MAX_GRID_MEMBERS: usize = 100;
/// Longest id given by a caller (corpid, userid, grid_id, category_id, order_id), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest name of a corp, an app or a user, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 64;
/// The first agentid handed out when none is asked for.
pub const FIRST_AGENTID: i64 = 1_000_002;

/// The characters besides letters and digits a userid may hold.
pub const USERID_EXTRA: &[char] = &['-', '_', '.', '@'];
/// The characters besides letters and digits the other ids may hold.
pub const ID_EXTRA: &[char] = &['-', '_'];

fn invalid(message: String) -> Rejection {
    Rejection::Invalid(message)
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

/// A grid or category name: 1 to 30 characters, not blank.
pub fn check_name(what: &str, name: &str) -> Result<(), Rejection> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "{what} name must be 1 to {MAX_NAME_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
}

/// The name of a corp, an app or a user: 1 to 64 characters, not blank.
pub fn check_display_name(what: &str, name: &str) -> Result<(), Rejection> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_DISPLAY_NAME_CHARS {
        return Err(invalid(format!(
            "{what} name must be 1 to {MAX_DISPLAY_NAME_CHARS} characters, got {chars}"
        )));
    }
    Ok(())
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
    let mut unique: Vec<&String> = Vec::with_capacity(users.len());
    for user in users {
        if !unique.contains(&user) {
            unique.push(user);
        }
    }
    let (low, high) = match role {
        GridRole::Admin => (1, MAX_GRID_ADMINS),
        GridRole::Member => (0, MAX_GRID_MEMBERS),
    };
    if unique.len() < low || unique.len() > high {
        return Err(invalid(format!(
            "a grid has {low} to {high} {}s, got {}",
            role.as_str(),
            unique.len()
        )));
    }
    Ok(unique)
}

/// A new grid under `parent`, which is at level `parent_depth` (a root is at 1).
pub fn check_new_grid_depth(parent: &str, parent_depth: usize) -> Result<(), Rejection> {
    if parent_depth + 1 > MAX_GRID_DEPTH {
        return Err(invalid(format!(
            "grids are at most {MAX_GRID_DEPTH} levels deep: {parent} is at the last level"
        )));
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
        return Err(invalid(format!(
            "grids are at most {MAX_GRID_DEPTH} levels deep: grid {grid_id} and its \
             {height} levels do not fit under {parent}"
        )));
    }
    Ok(())
}

/// A category under `parent`, which is at `parent_level`: categories have two levels. Returns the
/// new category's level.
pub fn category_level(parent: Option<(&str, i64)>) -> Result<i64, Rejection> {
    match parent {
        None => Ok(1),
        Some((_, 1)) => Ok(2),
        Some((parent, _)) => Err(invalid(format!(
            "category {parent} is not a level-1 category: categories have two levels"
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
        assert!(category_level(Some(("c", 2))).is_err());
    }
}
