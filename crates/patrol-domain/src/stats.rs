//! The statistics of `get_corp_status`, `get_user_status` and `category_statistic`
//! (decisions.md, "Statistics"): what each count means, from what a store keeps.
//!
//! A store keeps, for every order, its [`Stage`] and whether it was ever taken (`accepted`), and
//! for every group of orders (grid, category, stage, accepted) how many there are, maintained in
//! the transaction of every write. The calls then add up a few rows ([`Tally`]) and count the
//! orders of one day by index ([`Day`]); no call reads all the orders of a corp.

use std::collections::HashMap;

use jiff::tz::TimeZone;

use crate::{Category, OrderState, Stage};

/// The time zone of "today" when none is configured.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// The length of a quarter, the unit in which a store may count the orders of a time: every
/// time zone's offset is a whole number of quarters of an hour, so a day is whole quarters.
pub const QUARTER_SECONDS: i64 = 900;

/// The quarter of an hour that holds `time` (Unix seconds), counted from the epoch.
pub fn quarter(time: i64) -> i64 {
    time.div_euclid(QUARTER_SECONDS)
}

/// A calendar day in a time zone, as Unix seconds `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub start: i64,
    pub end: i64,
}

impl Day {
    /// The day that holds `now` in `zone`: from its midnight to the next (23 or 25 hours long
    /// on a day a zone changes its offset).
    pub fn of(now: i64, zone: &TimeZone) -> Day {
        let instant = jiff::Timestamp::from_second(now).unwrap_or(if now < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        });
        let date = instant.to_zoned(zone.clone()).date();
        let midnight = |date: jiff::civil::Date| {
            date.to_zoned(zone.clone())
                .map_or(now, |zoned| zoned.timestamp().as_second())
        };
        let start = midnight(date);
        let end = date.tomorrow().map_or(i64::MAX, midnight);
        Day { start, end }
    }

    pub fn contains(&self, time: i64) -> bool {
        (self.start..self.end).contains(&time)
    }

    /// The day as quarters `[first, end)` ([`quarter`]); `None` when it does not begin and end
    /// on a quarter (offsets of the past such as Monrovia's -0:44:30 until 1972).
    pub fn quarters(&self) -> Option<(i64, i64)> {
        (self.start % QUARTER_SECONDS == 0 && self.end % QUARTER_SECONDS == 0)
            .then(|| (quarter(self.start), quarter(self.end)))
    }
}

/// The changes a write makes to the counters a store keeps for the statistics, gathered over the
/// orders of one transaction; every backend writes them in that transaction (its own SQL), and
/// only there. The keys are the store's internal keys of grids (0 in `quarters`: the whole
/// corp) and categories (0: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// (family, grid, category, stage, accepted) → change in orders.
    pub tallies: HashMap<(i64, i64, i64, i64, bool), i64>,
    /// (family, userid, stage) → change in open orders the user is a processor of.
    pub users: HashMap<(i64, String, i64), i64>,
    /// (family, grid or 0 for the corp, quarter) → orders (reported, done) in it.
    pub quarters: HashMap<(i64, i64, i64), (i64, i64)>,
}

impl Counters {
    /// Counts an order as it stands `delta` times (-1: as it stood before a change): in its
    /// group's tally, and for each of its processors while it is open.
    pub fn count(
        &mut self,
        state: &OrderState,
        grid_key: i64,
        category_key: Option<i64>,
        delta: i64,
    ) {
        let family = state.family().code();
        let stage = state.stage().code();
        let key = (
            family,
            grid_key,
            category_key.unwrap_or(0),
            stage,
            state.accepted(),
        );
        *self.tallies.entry(key).or_default() += delta;
        if !state.closed {
            for userid in &state.processors {
                *self
                    .users
                    .entry((family, userid.clone(), stage))
                    .or_default() += delta;
            }
        }
    }

    /// Counts a report, and its done step if it has one, in the quarters of its grid and corp.
    pub fn reported(&mut self, state: &OrderState, grid_key: i64) {
        self.in_quarters(state, grid_key, state.create_time, (1, 0));
        if let Some((time, _)) = state.solved() {
            self.in_quarters(state, grid_key, time, (0, 1));
        }
    }

    /// Counts the done step of an order that an action solved.
    pub fn newly_solved(&mut self, before: &OrderState, after: &OrderState, grid_key: i64) {
        if before.solved().is_none()
            && let Some((time, _)) = after.solved()
        {
            self.in_quarters(after, grid_key, time, (0, 1));
        }
    }

    fn in_quarters(&mut self, state: &OrderState, grid_key: i64, time: i64, delta: (i64, i64)) {
        let quarter = quarter(time);
        for grid in [grid_key, 0] {
            let entry = self
                .quarters
                .entry((state.family().code(), grid, quarter))
                .or_default();
            entry.0 += delta.0;
            entry.1 += delta.1;
        }
    }
}

/// How many orders of a group stand at one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub stage: Stage,
    /// Whether they were ever taken.
    pub accepted: bool,
    pub orders: i64,
}

/// A corp's or a grid's counts, for either family (each family's answer shows some of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorpStatus {
    /// Open orders whose last step is the report: `to_be_assigned` (patrol), `pending`
    /// (resident).
    pub untaken: i64,
    /// Open orders whose last step is 2, 3, 4 or 7.
    pub processing: i64,
    pub added_today: i64,
    pub solved_today: i64,
    pub total_case: i64,
    /// Orders ever taken (resident `total_accepted`).
    pub total_accepted: i64,
    pub total_solved: i64,
}

impl CorpStatus {
    /// The counts from the tallies of the orders asked about and the two counts of the day.
    pub fn from_tallies(
        tallies: impl IntoIterator<Item = Tally>,
        added_today: i64,
        solved_today: i64,
    ) -> CorpStatus {
        let mut status = CorpStatus {
            added_today,
            solved_today,
            ..CorpStatus::default()
        };
        for tally in tallies {
            status.total_case += tally.orders;
            if tally.accepted {
                status.total_accepted += tally.orders;
            }
            match tally.stage {
                Stage::New => status.untaken += tally.orders,
                Stage::Processing => status.processing += tally.orders,
                Stage::Solved => status.total_solved += tally.orders,
                Stage::Rejected => {}
            }
        }
        status
    }
}

/// One member's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserStatus {
    /// Open orders whose processors hold the member (an order just reported counts for each
    /// admin of its grid).
    pub processing: i64,
    /// Of those, the ones whose last step is the report (resident `pending`).
    pub untaken: i64,
    /// Orders the member reported today.
    pub added_today: i64,
    /// Orders the member marked done today.
    pub solved_today: i64,
}

/// One row of `category_statistic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    /// `""` for the row of orders without a category.
    pub category_id: String,
    pub name: String,
    pub level: i64,
    pub total_case: i64,
    pub total_solved: i64,
    /// 1 a configured category, 0 the row of orders without one.
    pub category_type: i64,
}

/// The name of the row of orders reported without a category.
pub const OTHER_CATEGORY_NAME: &str = "其他";

/// Orders and solved orders of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CategoryCount {
    pub total_case: i64,
    pub total_solved: i64,
}

/// The rows of `category_statistic {category_id: asked}` from the corp's categories (each
/// level-1 category followed by its children, as a store lists them) and the counts of each
/// category's own orders (`None`: orders without a category). `None` when `asked` is no
/// category of the corp.
pub fn category_rows(
    categories: &[Category],
    counts: &HashMap<Option<String>, CategoryCount>,
    asked: Option<&str>,
) -> Option<Vec<CategoryRow>> {
    let own = |id: &str| {
        counts
            .get(&Some(id.to_owned()))
            .copied()
            .unwrap_or_default()
    };
    let row = |category: &Category, count: CategoryCount| CategoryRow {
        category_id: category.category_id.clone(),
        name: category.name.clone(),
        level: category.level,
        total_case: count.total_case,
        total_solved: count.total_solved,
        category_type: 1,
    };
    fn children<'a>(
        categories: &'a [Category],
        parent: &'a str,
    ) -> impl Iterator<Item = &'a Category> + 'a {
        categories
            .iter()
            .filter(move |c| c.parent.as_deref() == Some(parent))
    }
    match asked {
        None => {
            let mut rows: Vec<CategoryRow> = categories
                .iter()
                .filter(|c| c.level == 1)
                .map(|top| {
                    let mut count = own(&top.category_id);
                    for child in children(categories, &top.category_id) {
                        let child = own(&child.category_id);
                        count.total_case += child.total_case;
                        count.total_solved += child.total_solved;
                    }
                    row(top, count)
                })
                .collect();
            if let Some(other) = counts.get(&None).filter(|c| c.total_case > 0) {
                rows.push(CategoryRow {
                    category_id: String::new(),
                    name: OTHER_CATEGORY_NAME.to_owned(),
                    level: 1,
                    total_case: other.total_case,
                    total_solved: other.total_solved,
                    category_type: 0,
                });
            }
            Some(rows)
        }
        Some(asked) => {
            let category = categories.iter().find(|c| c.category_id == asked)?;
            if category.level == 1 {
                Some(
                    children(categories, asked)
                        .map(|child| row(child, own(&child.category_id)))
                        .collect(),
                )
            } else {
                Some(vec![row(category, own(asked))])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get(DEFAULT_TIME_ZONE).unwrap()
    }

    #[test]
    fn a_day_runs_from_midnight_to_midnight_in_the_zone() {
        // 2026-11-30 23:59:59 +08:00 and one second later.
        let late = 1_764_518_399;
        let day = Day::of(late, &shanghai());
        assert_eq!(day.end, late + 1);
        assert_eq!(day.end - day.start, 86_400);
        let next = Day::of(late + 1, &shanghai());
        assert_eq!(next.start, late + 1);
        assert!(day.contains(day.start) && !day.contains(day.end));
        assert_eq!(
            day.quarters(),
            Some((quarter(day.start), quarter(day.start) + 96))
        );
        // Kathmandu is 5:45 ahead: its days are whole quarters too.
        let nepal = Day::of(late, &TimeZone::get("Asia/Kathmandu").unwrap());
        assert_eq!(nepal.quarters().map(|(a, b)| b - a), Some(96));
        // Monrovia's time of 1970 (-0:44:30) is not.
        let monrovia = TimeZone::get("Africa/Monrovia").unwrap();
        assert_eq!(Day::of(0, &monrovia).quarters(), None);
        // A day with a change of offset is 23 hours long (New York, 2026-03-08).
        let zone = TimeZone::get("America/New_York").unwrap();
        let spring = Day::of(1_772_978_400, &zone);
        assert_eq!(spring.end - spring.start, 23 * 3600);
        // Times at the ends of the range do not panic.
        Day::of(i64::MAX, &shanghai());
        Day::of(i64::MIN, &shanghai());
    }

    fn category(id: &str, level: i64, parent: Option<&str>) -> Category {
        Category {
            category_id: id.into(),
            name: format!("name of {id}"),
            level,
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn level_one_rows_count_their_children_and_the_other_row_shows_when_needed() {
        let categories = [
            category("a", 1, None),
            category("a1", 2, Some("a")),
            category("a2", 2, Some("a")),
            category("b", 1, None),
        ];
        let count = |total_case, total_solved| CategoryCount {
            total_case,
            total_solved,
        };
        let mut counts = HashMap::from([
            (Some("a".to_owned()), count(1, 0)),
            (Some("a1".to_owned()), count(3, 2)),
        ]);
        let top = category_rows(&categories, &counts, None).unwrap();
        assert_eq!(
            top.iter()
                .map(|r| (r.category_id.as_str(), r.total_case, r.total_solved))
                .collect::<Vec<_>>(),
            [("a", 4, 2), ("b", 0, 0)]
        );
        counts.insert(None, count(2, 1));
        let top = category_rows(&categories, &counts, None).unwrap();
        let other = top.last().unwrap();
        assert_eq!(
            (other.category_id.as_str(), other.name.as_str(), other.level),
            ("", OTHER_CATEGORY_NAME, 1)
        );
        assert_eq!((other.category_type, other.total_case), (0, 2));
        let children = category_rows(&categories, &counts, Some("a")).unwrap();
        assert_eq!(children.len(), 2);
        assert_eq!((children[1].total_case, children[1].level), (0, 2));
        let one = category_rows(&categories, &counts, Some("a1")).unwrap();
        assert_eq!((one.len(), one[0].total_solved), (1, 2));
        assert_eq!(category_rows(&categories, &counts, Some("zz")), None);
        assert_eq!(category_rows(&categories, &counts, Some("b")), Some(vec![]));
    }

    #[test]
    fn the_corp_status_adds_up_the_tallies() {
        let tally = |stage, accepted, orders| Tally {
            stage,
            accepted,
            orders,
        };
        let status = CorpStatus::from_tallies(
            [
                tally(Stage::New, false, 5),
                tally(Stage::Processing, true, 4),
                tally(Stage::Solved, true, 3),
                tally(Stage::Rejected, false, 2),
                tally(Stage::Rejected, true, 1),
            ],
            7,
            1,
        );
        assert_eq!(
            status,
            CorpStatus {
                untaken: 5,
                processing: 4,
                added_today: 7,
                solved_today: 1,
                total_case: 15,
                total_accepted: 8,
                total_solved: 3,
            }
        );
    }
}
