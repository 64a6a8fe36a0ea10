//! The workflow of an order: what reporting and each action do to `process_list` and
//! `processor_userids` (decisions.md, "The workflow"), as pure functions on an order's state.

use crate::limits;
use crate::model::{
    Action, ActionKind, Family, Location, Media, NewOrder, ProcessType, Resident, Urgency,
};
use patrol_wire::patrol as wire;

/// Why a write was refused: the request was well-formed but breaks a rule of the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    #[error("order {0} is closed (done or rejected) and takes no further step")]
    Closed(String),
    #[error(
        "user {actor} is neither a current processor of order {order_id} nor an admin of its grid"
    )]
    NotAllowed { actor: String, order_id: String },
    #[error("{0} is not a user of this corp")]
    UnknownUser(String),
    #[error("grid {0} does not exist")]
    UnknownGrid(String),
    #[error("category {0} does not exist")]
    UnknownCategory(String),
    #[error("the list of users is empty")]
    NoUsers,
    #[error("time {time} is before the order's last step at {last}")]
    TimeGoesBack { time: i64, last: i64 },
    #[error("order {0} has {max} steps, the most an order takes", max = limits::MAX_STEPS)]
    TooManySteps(String),
    #[error("{0}")]
    Invalid(String),
    /// One of WeCom's limits on grids and categories, named, so that each API can answer it in
    /// its own terms (WeCom's API has a code for some of them).
    #[error("{message}")]
    Limit {
        limit: limits::Limit,
        message: String,
    },
}

/// Where an order stands, as the statistics count it (decisions.md, "Statistics").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Open, its last step the report: 待分配 / 待受理.
    New,
    /// Open and taken: its last step is 2, 3, 4 or 7 (办理中).
    Processing,
    /// Closed as done (办结).
    Solved,
    /// Closed as rejected: closed, never solved.
    Rejected,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::New,
        Stage::Processing,
        Stage::Solved,
        Stage::Rejected,
    ];

    /// How a store writes the stage.
    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.code() == code)
    }

    /// The stage's name in the administration API and `patrol admin` (docs/admin-api.md,
    /// "Orders"): `new`, `processing`, `done` or `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Processing => "processing",
            Stage::Solved => "done",
            Stage::Rejected => "rejected",
        }
    }

    /// The stages a state of the administration API names: a stage's [`Stage::name`], `open`
    /// (new or processing) or `closed` (done or rejected).
    pub fn parse_state(state: &str) -> Option<Vec<Stage>> {
        match state {
            "open" => Some(vec![Stage::New, Stage::Processing]),
            "closed" => Some(vec![Stage::Solved, Stage::Rejected]),
            _ => Stage::ALL
                .into_iter()
                .find(|stage| stage.name() == state)
                .map(|stage| vec![stage]),
        }
    }
}

/// One stored step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub process_type: ProcessType,
    /// Who took the action that appended the step.
    pub actor: String,
    /// When that action was taken.
    pub acted_time: i64,
    pub solve_userid: String,
    pub process_desc: String,
    pub status: i64,
    pub solved_time: i64,
    pub media: Media,
}

/// Everything an order's wire JSON is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderState {
    pub order_id: String,
    pub description: String,
    pub urgency: Urgency,
    pub case_name: String,
    pub grid_name: String,
    pub grid_id: String,
    pub create_time: i64,
    pub media: Media,
    pub location: Location,
    pub reporter: String,
    pub processors: Vec<String>,
    pub steps: Vec<Step>,
    pub closed: bool,
    /// The reporting resident of a resident order; `None` for a patrol order.
    pub resident: Option<Resident>,
}

/// An order after an action: see [`OrderState::act`].
#[derive(Debug, Clone, PartialEq)]
pub struct Acted {
    pub state: OrderState,
    /// The order's wire JSON after the action.
    pub body: String,
    /// Whether the wire JSON changed: only then is the order stored again.
    pub changed: bool,
}

/// The grid an order belongs to, as the workflow needs it.
#[derive(Debug, Clone, Copy)]
pub struct GridView<'a> {
    pub grid_id: &'a str,
    pub name: &'a str,
    pub admins: &'a [String],
}

/// Checks what every written location must satisfy.
pub fn check_location(location: &Location) -> Result<(), Rejection> {
    if !(-90.0..=90.0).contains(&location.latitude) {
        return Err(Rejection::Invalid(format!(
            "latitude {} is outside -90..90",
            location.latitude
        )));
    }
    if !(-180.0..=180.0).contains(&location.longitude) {
        return Err(Rejection::Invalid(format!(
            "longitude {} is outside -180..180",
            location.longitude
        )));
    }
    Ok(())
}

impl OrderState {
    /// Reports an order: step 1 (create) by the reporter; the grid's admins become processors.
    #[allow(clippy::too_many_arguments)]
    pub fn report(
        order_id: String,
        description: String,
        urgency: Urgency,
        case_name: String,
        grid: &GridView<'_>,
        location: Location,
        reporter: String,
        media: Media,
        create_time: i64,
    ) -> Result<OrderState, Rejection> {
        check_location(&location)?;
        if order_id.is_empty() {
            return Err(Rejection::Invalid("order_id is empty".into()));
        }
        limits::check_description("a report's", &description)?;
        limits::check_place("name", &location.name)?;
        limits::check_place("address", &location.address)?;
        limits::check_media("report", &media)?;
        let step = Step {
            process_type: ProcessType::Create,
            actor: reporter.clone(),
            acted_time: create_time,
            solve_userid: reporter.clone(),
            process_desc: description.clone(),
            status: 1,
            solved_time: create_time,
            media: media.clone(),
        };
        Ok(OrderState {
            order_id,
            description,
            urgency,
            case_name,
            grid_name: grid.name.to_owned(),
            grid_id: grid.grid_id.to_owned(),
            create_time,
            media,
            location,
            reporter,
            processors: dedup(grid.admins),
            steps: vec![step],
            closed: false,
            resident: None,
        })
    }

    /// Reports a new order and applies the actions taken on it since, oldest first: what every
    /// backend stores for a [`NewOrder`]. `case_name` is its category's name (`""` without one);
    /// `is_user` tells whether a userid belongs to the corp.
    pub fn report_new(
        order: NewOrder,
        case_name: String,
        grid: &GridView<'_>,
        is_user: impl Fn(&str) -> bool,
    ) -> Result<OrderState, Rejection> {
        if !is_user(&order.reporter) {
            return Err(Rejection::UnknownUser(order.reporter));
        }
        let mut state = OrderState::report(
            order.order_id.into_string(),
            order.description,
            order.urgency,
            case_name,
            grid,
            order.location,
            order.reporter,
            order.media,
            order.create_time,
        )?;
        if let Some(resident) = order.resident {
            limits::check_resident(&resident)?;
            state.resident = Some(resident);
        }
        for action in &order.actions {
            state.apply(action, grid.admins, &is_user)?;
        }
        Ok(state)
    }

    /// Takes one action on a stored order whose wire JSON is `stored_body`: applies it and
    /// renders the order again. [`Acted::changed`] tells the backend whether to store the new
    /// state and move the order to the end of its corp's modification sequence.
    pub fn act(
        mut self,
        stored_body: &str,
        action: &Action,
        grid_admins: &[String],
        is_user: impl Fn(&str) -> bool,
    ) -> Result<Acted, Rejection> {
        self.apply(action, grid_admins, is_user)?;
        let body = self.render();
        let changed = body != stored_body;
        Ok(Acted {
            state: self,
            body,
            changed,
        })
    }

    /// Which family the order belongs to.
    pub fn family(&self) -> Family {
        match self.resident {
            Some(_) => Family::Resident,
            None => Family::Patrol,
        }
    }

    /// Where the order stands, as the statistics count it.
    pub fn stage(&self) -> Stage {
        match self.steps.last().map(|step| step.process_type) {
            None | Some(ProcessType::Create) => Stage::New,
            Some(ProcessType::Done) => Stage::Solved,
            Some(ProcessType::Reject) => Stage::Rejected,
            Some(
                ProcessType::Accept
                | ProcessType::Assign
                | ProcessType::Transfer
                | ProcessType::InProgress,
            ) => Stage::Processing,
        }
    }

    /// Whether someone ever took the order: its history holds a step of type 2, 3, 4, 5 or 7
    /// (累计受理).
    pub fn accepted(&self) -> bool {
        self.steps
            .iter()
            .any(|step| !matches!(step.process_type, ProcessType::Create | ProcessType::Reject))
    }

    /// When and by whom the order was done; `None` unless it is solved.
    pub fn solved(&self) -> Option<(i64, &str)> {
        self.steps
            .iter()
            .find(|step| step.process_type == ProcessType::Done)
            .map(|step| (step.acted_time, step.actor.as_str()))
    }

    /// The time of the last step: no action may be earlier.
    pub fn last_time(&self) -> i64 {
        self.steps.last().map_or(self.create_time, |s| s.acted_time)
    }

    /// Applies one action. `is_user` tells whether a userid belongs to the corp.
    pub fn apply(
        &mut self,
        action: &Action,
        grid_admins: &[String],
        is_user: impl Fn(&str) -> bool,
    ) -> Result<(), Rejection> {
        limits::check_description("an action's", &action.description)?;
        limits::check_media("action", &action.media)?;
        if self.closed {
            return Err(Rejection::Closed(self.order_id.clone()));
        }
        if self.steps.len() >= limits::MAX_STEPS {
            return Err(Rejection::TooManySteps(self.order_id.clone()));
        }
        if !is_user(&action.actor) {
            return Err(Rejection::UnknownUser(action.actor.clone()));
        }
        if !self.processors.contains(&action.actor) && !grid_admins.contains(&action.actor) {
            return Err(Rejection::NotAllowed {
                actor: action.actor.clone(),
                order_id: self.order_id.clone(),
            });
        }
        let last = self.last_time();
        if action.time < last {
            return Err(Rejection::TimeGoesBack {
                time: action.time,
                last,
            });
        }
        let processors = match &action.kind {
            ActionKind::Accept | ActionKind::StartWork => vec![action.actor.clone()],
            ActionKind::Assign(users) | ActionKind::Transfer(users) => {
                let users: Vec<String> =
                    limits::handed_users(users)?.into_iter().cloned().collect();
                if users.is_empty() {
                    return Err(Rejection::NoUsers);
                }
                if let Some(unknown) = users.iter().find(|u| !is_user(u)) {
                    return Err(Rejection::UnknownUser(unknown.clone()));
                }
                users
            }
            ActionKind::Finish | ActionKind::Reject => Vec::new(),
        };

        // An open in-progress step is completed by whoever takes the next action.
        if let Some(open) = self.steps.last_mut().filter(|s| s.status == 0) {
            open.status = 1;
            open.solve_userid = action.actor.clone();
            open.solved_time = action.time;
        }
        let open = action.kind == ActionKind::StartWork;
        self.steps.push(Step {
            process_type: action.kind.process_type(),
            actor: action.actor.clone(),
            acted_time: action.time,
            solve_userid: if open {
                String::new()
            } else {
                action.actor.clone()
            },
            process_desc: action.description.clone(),
            status: if open { 0 } else { 1 },
            solved_time: if open { 0 } else { action.time },
            media: action.media.clone(),
        });
        self.processors = processors;
        self.closed = matches!(action.kind, ActionKind::Finish | ActionKind::Reject);
        Ok(())
    }

    /// The order as WeCom shows it.
    pub fn to_wire(&self) -> wire::Order {
        wire::Order {
            order_id: self.order_id.clone(),
            desc: self.description.clone(),
            urge_type: self.urgency as i64,
            case_name: self.case_name.clone(),
            grid_name: self.grid_name.clone(),
            grid_id: self.grid_id.clone(),
            create_time: self.create_time,
            image_urls: self.media.image_urls.clone(),
            video_media_ids: self.media.video_media_ids.clone(),
            location: wire::Location {
                name: self.location.name.clone(),
                address: self.location.address.clone(),
                latitude: self.location.latitude,
                longitude: self.location.longitude,
            },
            processor_userids: self.processors.clone(),
            process_list: self
                .steps
                .iter()
                .map(|step| wire::Process {
                    process_type: step.process_type as i64,
                    solve_userid: step.solve_userid.clone(),
                    process_desc: step.process_desc.clone(),
                    status: step.status,
                    solved_time: step.solved_time,
                    image_urls: step.media.image_urls.clone(),
                    video_media_ids: step.media.video_media_ids.clone(),
                })
                .collect(),
            reporter_name: self.resident.as_ref().map(|r| r.name.clone()),
            reporter_mobile: self.resident.as_ref().map(|r| r.mobile.clone()),
            unionid: self.resident.as_ref().map(|r| r.unionid.clone()),
        }
    }

    /// The wire JSON that `get_order_list` and `get_order_info` serve for this order.
    pub fn render(&self) -> String {
        serde_json::to_string(&self.to_wire()).expect("an order always serializes")
    }
}

/// Keeps the first occurrence of every userid, in order.
fn dedup(users: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(users.len());
    for user in users {
        if !out.contains(user) {
            out.push(user.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Vec<String> {
        ["admin", "alice", "bob", "carol", "reporter"]
            .map(String::from)
            .to_vec()
    }

    fn reported() -> OrderState {
        let admins = vec!["admin".to_owned()];
        OrderState::report(
            "o1".into(),
            "井盖缺失".into(),
            Urgency::Urgent,
            "井盖缺失".into(),
            &GridView {
                grid_id: "g1",
                name: "一网格",
                admins: &admins,
            },
            Location {
                name: "x".into(),
                address: "y".into(),
                latitude: 30.0,
                longitude: 120.0,
            },
            "reporter".into(),
            Media::default(),
            100,
        )
        .unwrap()
    }

    fn act(kind: ActionKind, actor: &str, time: i64) -> Action {
        Action {
            kind,
            actor: actor.into(),
            description: format!("{actor} acts"),
            media: Media::default(),
            time,
        }
    }

    fn apply(order: &mut OrderState, action: Action) -> Result<(), Rejection> {
        let known = users();
        order.apply(&action, &["admin".to_owned()], |u| {
            known.iter().any(|k| k == u)
        })
    }

    #[test]
    fn reporting_makes_the_grid_admins_processors() {
        let order = reported();
        assert_eq!(order.processors, ["admin"]);
        assert_eq!(order.steps.len(), 1);
        let step = &order.steps[0];
        assert_eq!(step.process_type, ProcessType::Create);
        assert_eq!(
            (step.solve_userid.as_str(), step.status, step.solved_time),
            ("reporter", 1, 100)
        );
    }

    #[test]
    fn in_progress_stays_open_until_the_next_step() {
        let mut order = reported();
        apply(
            &mut order,
            act(
                ActionKind::Assign(vec!["alice".into(), "bob".into(), "alice".into()]),
                "admin",
                110,
            ),
        )
        .unwrap();
        assert_eq!(order.processors, ["alice", "bob"]);
        apply(&mut order, act(ActionKind::StartWork, "bob", 120)).unwrap();
        assert_eq!(order.processors, ["bob"]);
        let open = order.steps.last().unwrap();
        assert_eq!(
            (open.status, open.solve_userid.as_str(), open.solved_time),
            (0, "", 0)
        );
        apply(&mut order, act(ActionKind::Finish, "bob", 130)).unwrap();
        let started = &order.steps[2];
        assert_eq!(
            (
                started.status,
                started.solve_userid.as_str(),
                started.solved_time
            ),
            (1, "bob", 130)
        );
        assert!(order.processors.is_empty());
        assert!(order.closed);
        assert_eq!(
            apply(&mut order, act(ActionKind::Accept, "admin", 140)),
            Err(Rejection::Closed("o1".into()))
        );
    }

    #[test]
    fn an_order_takes_at_most_max_steps() {
        let mut order = reported();
        for n in 1..limits::MAX_STEPS {
            apply(&mut order, act(ActionKind::Accept, "admin", 100 + n as i64)).unwrap();
        }
        assert_eq!(order.steps.len(), limits::MAX_STEPS);
        assert_eq!(
            apply(&mut order, act(ActionKind::Finish, "admin", 1000)),
            Err(Rejection::TooManySteps("o1".into()))
        );
    }

    #[test]
    fn only_processors_and_grid_admins_may_act() {
        let mut order = reported();
        assert!(matches!(
            apply(&mut order, act(ActionKind::Accept, "carol", 110)),
            Err(Rejection::NotAllowed { .. })
        ));
        assert!(matches!(
            apply(&mut order, act(ActionKind::Accept, "nobody", 110)),
            Err(Rejection::UnknownUser(_))
        ));
        apply(
            &mut order,
            act(ActionKind::Transfer(vec!["carol".into()]), "admin", 110),
        )
        .unwrap();
        apply(&mut order, act(ActionKind::Reject, "carol", 120)).unwrap();
        assert!(order.closed);
    }

    #[test]
    fn actions_cannot_go_back_in_time_or_name_nobody() {
        let mut order = reported();
        assert_eq!(
            apply(&mut order, act(ActionKind::Accept, "admin", 99)),
            Err(Rejection::TimeGoesBack {
                time: 99,
                last: 100
            })
        );
        assert_eq!(
            apply(&mut order, act(ActionKind::Assign(vec![]), "admin", 100)),
            Err(Rejection::NoUsers)
        );
        assert_eq!(
            apply(
                &mut order,
                act(ActionKind::Assign(vec!["ghost".into()]), "admin", 100)
            ),
            Err(Rejection::UnknownUser("ghost".into()))
        );
        assert_eq!(order.steps.len(), 1, "a refused action leaves no trace");
    }
}
