//! The store story: one sequence of calls through every area of the store boundary, with what
//! each must answer, written once for every backend. A backend's tests open a fresh, empty store
//! and call [`run`]; a new backend (PostgreSQL) must pass the same story.
//!
//! It pins the contract the server relies on: not-found and conflict stay distinct, a rule of
//! the domain is a [`StoreError::Rejected`], a refused write leaves nothing behind, tokens are
//! per app and expire, revocation is immediate, and an order's wire JSON moves through the
//! modification sequence with every change.

#![allow(clippy::missing_panics_doc)]

use patrol_domain::{
    Action, ActionKind, AgentId, AppKind, AppPatch, CategoryPatch, GridPatch, ListQuery, Location,
    Media, NewApp, NewCategory, NewCorp, NewGrid, NewOrder, NewUser, Position, Rejection,
    TokenGrant, TokenStatus, Urgency,
};

use crate::{Clash, Store, StoreError};
use patrol_domain::limits::Limit;

const NOW: i64 = 1_800_000_000;

/// A well-formed id of the story.
fn id<T>(text: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    text.parse().expect("the story's ids are well-formed")
}

fn app(agentid: i64, secret: &str) -> NewApp {
    NewApp {
        agentid: (agentid != 0).then(|| AgentId::new(agentid).expect("a positive agentid")),
        name: format!("app {agentid}"),
        kind: AppKind::Custom,
        patrol_enabled: true,
        resident_enabled: true,
        contact_enabled: true,
        enabled: true,
        secret: secret.to_owned(),
        created_at: NOW,
    }
}

fn order(order_id: &str, create_time: i64) -> NewOrder {
    NewOrder {
        order_id: id(order_id),
        description: format!("事件 {order_id}"),
        urgency: Urgency::Important,
        category: Some("c1a".to_owned()),
        grid: "g1".to_owned(),
        location: Location {
            name: "小区".to_owned(),
            address: "路1号".to_owned(),
            latitude: 30.25,
            longitude: 120.125,
        },
        reporter: "reporter".to_owned(),
        media: Media::default(),
        create_time,
        actions: Vec::new(),
        resident: None,
    }
}

fn action(kind: ActionKind, actor: &str, time: i64) -> Action {
    Action {
        kind,
        actor: actor.to_owned(),
        description: format!("{actor} acts"),
        media: Media::default(),
        time,
    }
}

fn query(limit: u32, begin_modify_time: i64, after: Option<Position>) -> ListQuery {
    ListQuery {
        family: patrol_domain::Family::Patrol,
        begin_create_time: 0,
        begin_modify_time,
        after,
        limit,
        public_url: None,
    }
}

/// A new corp with a user `reporter`, admin of grid `g1`, and a category `c1a`: its key.
async fn corp_with_a_grid(store: &dyn Store, corpid: &str) -> i64 {
    let corp = store
        .create_corp(NewCorp {
            corpid: id(corpid),
            name: corpid.into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    let user = NewUser {
        userid: id("reporter"),
        name: "reporter".into(),
    };
    store.create_user(corp.key, user).await.unwrap();
    let grid = NewGrid {
        grid_id: id("g1"),
        name: "一号网格".into(),
        parent: None,
        admins: vec!["reporter".into()],
        members: Vec::new(),
    };
    store.create_grid(corp.key, grid).await.unwrap();
    let category = NewCategory {
        category_id: id("c1a"),
        name: "类别".into(),
        parent: None,
    };
    store.create_category(corp.key, category).await.unwrap();
    corp.key
}

/// Runs the whole story on a fresh, empty store; panics at the first answer that differs.
pub async fn run(store: &dyn Store) {
    directory(store).await;
    tokens(store).await;
    orders(store).await;
    seed_runs(store).await;
    corp_setups(store).await;
    concurrent_writes(store).await;
    media(store).await;
    served_images(store).await;
    statistics(store).await;
    corp_orders(store).await;
    corp_updates(store).await;
    corp_deletions(store).await;
}

/// A user is an admin of at most 10 grids, through `create_grid` and `update_grid` alike.
async fn managed_grids(store: &dyn Store, key: i64) {
    store
        .create_user(
            key,
            NewUser {
                userid: id("busy"),
                name: "忙".into(),
            },
        )
        .await
        .unwrap();
    let grid = |i: usize, admin: &str| NewGrid {
        grid_id: id(&format!("m{i}")),
        name: format!("管理 {i}"),
        parent: None,
        admins: vec![admin.into()],
        members: Vec::new(),
    };
    for i in 0..10 {
        store.create_grid(key, grid(i, "busy")).await.unwrap();
    }
    let over = |result: Result<_, StoreError>| {
        matches!(
            result,
            Err(StoreError::Rejected(Rejection::Limit {
                limit: Limit::ManagedGrids,
                ..
            }))
        )
    };
    assert!(over(
        store.create_grid(key, grid(10, "busy")).await.map(|_| ())
    ));
    store.create_grid(key, grid(10, "admin")).await.unwrap();
    let to_busy = GridPatch {
        admins: Some(vec!["busy".into()]),
        ..GridPatch::default()
    };
    assert!(over(
        store
            .update_grid(key, "m10", to_busy.clone())
            .await
            .map(|_| ())
    ));
    // Its own grids do not count twice.
    store.update_grid(key, "m0", to_busy).await.unwrap();
    for i in 0..=10 {
        store.delete_grid(key, &format!("m{i}")).await.unwrap();
    }
    store.delete_user(key, "busy").await.unwrap();
}

/// `update_category`: renames and moves within the two levels. Expects `c1` > `c1a`.
async fn category_moves(store: &dyn Store, key: i64) {
    let category = |category_id: &str, parent: Option<&str>| NewCategory {
        category_id: id(category_id),
        name: format!("类别 {category_id}"),
        parent: parent.map(String::from),
    };
    store
        .create_category(key, category("c2", None))
        .await
        .unwrap();
    let patch = |level: Option<i64>, parent: Option<&str>| CategoryPatch {
        name: None,
        level,
        parent: parent.map(String::from),
    };
    // A level-1 category with children stays at level 1.
    assert!(matches!(
        store
            .update_category(key, "c1", patch(Some(2), Some("c2")))
            .await,
        Err(StoreError::Clash {
            clash: Clash::HasChildren,
            ..
        })
    ));
    let moved = store
        .update_category(key, "c1a", patch(None, Some("c2")))
        .await
        .unwrap();
    assert_eq!((moved.level, moved.parent.as_deref()), (2, Some("c2")));
    let top = store
        .update_category(key, "c1a", patch(Some(1), None))
        .await
        .unwrap();
    assert_eq!((top.level, top.parent), (1, None));
    assert!(matches!(
        store
            .update_category(key, "c1a", patch(Some(2), Some("ghost")))
            .await,
        Err(StoreError::Rejected(Rejection::UnknownCategory(_)))
    ));
    let renamed = CategoryPatch {
        name: Some("类别 c2".into()),
        ..CategoryPatch::default()
    };
    assert!(matches!(
        store.update_category(key, "c1a", renamed).await,
        Err(StoreError::Clash {
            clash: Clash::SiblingName,
            ..
        })
    ));
    assert!(matches!(
        store
            .update_category(key, "nope", CategoryPatch::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
    let back = store
        .update_category(key, "c1a", patch(Some(2), Some("c1")))
        .await
        .unwrap();
    assert_eq!((back.level, back.parent.as_deref()), (2, Some("c1")));
    store.delete_category(key, "c2").await.unwrap();
}

/// Corps, apps, users, grids and categories.
pub async fn directory(store: &dyn Store) {
    let corp = store
        .create_corp(NewCorp {
            corpid: id("story-dir"),
            name: "目录".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    assert_eq!(store.corp("story-dir").await.unwrap(), Some(corp.clone()));
    assert_eq!(store.corp("nobody").await.unwrap(), None);
    let again = NewCorp {
        corpid: id("story-dir"),
        name: "again".into(),
        created_at: NOW,
    };
    assert!(matches!(
        store.create_corp(again).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.list_corps().await.unwrap().contains(&corp));

    let key = corp.key;
    let first = store.create_app(key, app(0, "s1")).await.unwrap();
    assert_eq!(first.agentid, patrol_domain::limits::FIRST_AGENTID);
    let second = store.create_app(key, app(0, "s2")).await.unwrap();
    assert_eq!(second.agentid, first.agentid + 1);
    assert!(matches!(
        store.create_app(key, app(first.agentid, "s3")).await,
        Err(StoreError::Conflict(_))
    ));
    let patch = AppPatch {
        name: Some("renamed".into()),
        ..AppPatch::default()
    };
    assert_eq!(
        store
            .update_app(key, first.agentid, patch)
            .await
            .unwrap()
            .name,
        "renamed"
    );
    assert!(matches!(
        store.update_app(key, 999, AppPatch::default()).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_app(key, second.agentid).await.unwrap();
    assert!(matches!(
        store.delete_app(key, second.agentid).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.list_apps(key).await.unwrap().len(), 1);

    for userid in ["admin", "worker", "reporter"] {
        let user = NewUser {
            userid: id(userid),
            name: userid.to_uppercase(),
        };
        store.create_user(key, user).await.unwrap();
    }
    let duplicate = NewUser {
        userid: id("admin"),
        name: "x".into(),
    };
    assert!(matches!(
        store.create_user(key, duplicate).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.update_user(key, "worker", "工人").await.unwrap().name,
        "工人"
    );
    assert!(matches!(
        store.update_user(key, "ghost", "x").await,
        Err(StoreError::NotFound(_))
    ));

    let grid = |grid_id: &str, parent: Option<&str>| NewGrid {
        grid_id: id(grid_id),
        name: format!("网格 {grid_id}"),
        parent: parent.map(String::from),
        admins: vec!["admin".into()],
        members: vec!["worker".into()],
    };
    store.create_grid(key, grid("g1", None)).await.unwrap();
    store
        .create_grid(key, grid("g2", Some("g1")))
        .await
        .unwrap();
    assert!(matches!(
        store.create_grid(key, grid("g1", None)).await,
        Err(StoreError::Conflict(_))
    ));
    let no_admin = NewGrid {
        admins: Vec::new(),
        ..grid("g3", None)
    };
    assert!(matches!(
        store.create_grid(key, no_admin).await,
        Err(StoreError::Rejected(Rejection::Limit {
            limit: Limit::GridAdmins,
            ..
        }))
    ));
    let stranger = NewGrid {
        admins: vec!["ghost".into()],
        ..grid("g3", None)
    };
    assert!(matches!(
        store.create_grid(key, stranger).await,
        Err(StoreError::Rejected(Rejection::UnknownUser(_)))
    ));
    assert_eq!(
        store.grid(key, "g3").await.unwrap(),
        None,
        "a refused grid leaves nothing"
    );
    let grids = store.list_grids(key).await.unwrap();
    assert_eq!(
        grids.iter().map(|g| g.grid_id.as_str()).collect::<Vec<_>>(),
        ["g1", "g2"]
    );
    let under_itself = GridPatch {
        parent: Some(Some("g2".into())),
        ..GridPatch::default()
    };
    assert!(matches!(
        store.update_grid(key, "g1", under_itself).await,
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        store.delete_user(key, "worker").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.delete_grid(key, "g1").await,
        Err(StoreError::Clash {
            clash: Clash::HasMembers,
            ..
        })
    ));
    assert_eq!(
        store
            .missing_users(key, vec!["ghost".into(), "admin".into(), "x y".into()])
            .await
            .unwrap(),
        ["ghost", "x y"]
    );
    managed_grids(store, key).await;
    assert!(matches!(
        store.delete_grid(key, "nope").await,
        Err(StoreError::NotFound(_))
    ));

    let category = |category_id: &str, parent: Option<&str>| NewCategory {
        category_id: id(category_id),
        name: format!("类别 {category_id}"),
        parent: parent.map(String::from),
    };
    store
        .create_category(key, category("c1", None))
        .await
        .unwrap();
    store
        .create_category(key, category("c1a", Some("c1")))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_category(key, category("c1b", Some("c1a")))
            .await,
        Err(StoreError::Rejected(_))
    ));
    assert!(matches!(
        store.create_category(key, category("c1", None)).await,
        Err(StoreError::Conflict(_))
    ));
    store.rename_category(key, "c1a", "新名").await.unwrap();
    let names: Vec<_> = store
        .list_categories(key)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["类别 c1", "新名"]);
    assert!(matches!(
        store.delete_category(key, "c1").await,
        Err(StoreError::Clash {
            clash: Clash::HasChildren,
            ..
        })
    ));
    category_moves(store, key).await;
    store.delete_category(key, "c1a").await.unwrap();
    assert!(matches!(
        store.delete_category(key, "c1a").await,
        Err(StoreError::NotFound(_))
    ));
}

/// Tokens: one live token per app, expiry, revocation by a new secret.
pub async fn tokens(store: &dyn Store) {
    let corp = store
        .create_corp(NewCorp {
            corpid: id("story-tokens"),
            name: "令牌".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    let created = store.create_app(corp.key, app(0, "secret")).await.unwrap();
    assert_eq!(
        store
            .grant_token("nobody", "secret", NOW, 7200, [0; 32])
            .await
            .unwrap(),
        TokenGrant::UnknownCorp
    );
    assert_eq!(
        store
            .grant_token("story-tokens", "wrong", NOW, 7200, [0; 32])
            .await
            .unwrap(),
        TokenGrant::BadSecret
    );
    let granted = store
        .grant_token("story-tokens", "secret", NOW, 7200, [1; 32])
        .await
        .unwrap();
    // The token is derived from the secret and the nonce; a backend may put in front of it what
    // finds its row (the PostgreSQL backend: its corp).
    let t1 = match &granted {
        TokenGrant::Granted { token, expires_at } => {
            assert_eq!(*expires_at, NOW + 7200);
            assert!(
                token.ends_with(&crate::credentials::token_for("secret", &[1; 32])),
                "{token}"
            );
            token.clone()
        }
        other => panic!("no token: {other:?}"),
    };
    let again = store
        .grant_token("story-tokens", "secret", NOW + 10, 7200, [2; 32])
        .await
        .unwrap();
    assert_eq!(again, granted, "the live token is handed out again");
    match store.authenticate(&t1, NOW + 1).await.unwrap() {
        TokenStatus::Valid(caller) => {
            assert_eq!(
                (caller.corp_key, caller.agentid),
                (corp.key, created.agentid)
            );
        }
        other => panic!("the token is valid, not {other:?}"),
    }
    assert_eq!(
        store.authenticate(&t1, NOW + 7200).await.unwrap(),
        TokenStatus::Expired
    );
    let forgotten = NOW + 7200 + crate::EXPIRED_TOKEN_RETENTION;
    assert_eq!(
        store.authenticate(&t1, forgotten - 1).await.unwrap(),
        TokenStatus::Expired
    );
    assert_eq!(
        store.authenticate(&t1, forgotten).await.unwrap(),
        TokenStatus::Unknown,
        "an expired token is forgotten 7 days after it expired"
    );
    assert_eq!(
        store.authenticate("never", NOW).await.unwrap(),
        TokenStatus::Unknown
    );
    store
        .set_app_secret(corp.key, created.agentid, "rotated")
        .await
        .unwrap();
    assert_eq!(
        store.authenticate(&t1, NOW + 2).await.unwrap(),
        TokenStatus::Unknown,
        "revoked at once"
    );
    assert_eq!(
        store
            .grant_token("story-tokens", "secret", NOW, 7200, [3; 32])
            .await
            .unwrap(),
        TokenGrant::BadSecret
    );
    let secret = store.cursor_secret().await.unwrap();
    assert_eq!(
        store.cursor_secret().await.unwrap(),
        secret,
        "one cursor secret per database"
    );
}

/// Orders: reporting, the workflow, the modification sequence and both reads.
pub async fn orders(store: &dyn Store) {
    let corp = store
        .create_corp(NewCorp {
            corpid: id("story-orders"),
            name: "工单".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    let key = corp.key;
    for userid in ["admin", "worker", "reporter"] {
        let user = NewUser {
            userid: id(userid),
            name: userid.into(),
        };
        store.create_user(key, user).await.unwrap();
    }
    let grid = NewGrid {
        grid_id: id("g1"),
        name: "一号网格".into(),
        parent: None,
        admins: vec!["admin".into()],
        members: vec!["worker".into(), "reporter".into()],
    };
    store.create_grid(key, grid).await.unwrap();
    for (category_id, parent) in [("c1", None), ("c1a", Some("c1"))] {
        let category = NewCategory {
            category_id: id(category_id),
            name: format!("类别 {category_id}"),
            parent: parent.map(String::from),
        };
        store.create_category(key, category).await.unwrap();
    }

    let body = store.report_order(key, order("o1", NOW)).await.unwrap();
    assert!(
        body.starts_with(
            r#"{"order_id":"o1","desc":"事件 o1","urge_type":2,"case_name":"类别 c1a""#
        ),
        "{body}"
    );
    assert!(matches!(
        store.report_order(key, order("o1", NOW)).await,
        Err(StoreError::Conflict(_))
    ));
    let unknown_grid = NewOrder {
        grid: "nope".into(),
        ..order("o9", NOW)
    };
    assert!(matches!(
        store.report_order(key, unknown_grid).await,
        Err(StoreError::Rejected(Rejection::UnknownGrid(_)))
    ));
    let history = NewOrder {
        actions: vec![action(ActionKind::Accept, "admin", NOW + 1)],
        ..order("o2", NOW + 1)
    };
    store
        .insert_orders(key, vec![history, order("o3", NOW + 2)])
        .await
        .unwrap();
    let broken = vec![order("o4", NOW + 3), order("o1", NOW + 3)];
    assert!(matches!(
        store.insert_orders(key, broken).await,
        Err(StoreError::Conflict(message)) if message.contains("o1")
    ));
    let twice = vec![order("o5", NOW + 3), order("o5", NOW + 4)];
    assert!(matches!(
        store.insert_orders(key, twice).await,
        Err(StoreError::Conflict(message)) if message.contains("o5")
    ));
    assert_eq!(
        store.order_body(key, None, "o4").await.unwrap(),
        None,
        "a failed batch leaves nothing"
    );

    let page = store.list_orders(key, query(2, 0, None)).await.unwrap();
    assert_eq!(page.orders.len(), 2);
    assert!(page.more);
    let rest = store
        .list_orders(key, query(2, 0, page.last_position()))
        .await
        .unwrap();
    assert_eq!(rest.orders.len(), 1);
    assert!(!rest.more);

    let acted = store
        .act_on_order(
            key,
            "o1",
            action(ActionKind::Assign(vec!["worker".into()]), "admin", NOW + 10),
        )
        .await
        .unwrap();
    assert!(
        acted.contains(r#""processor_userids":["worker"]"#),
        "{acted}"
    );
    assert_eq!(
        store.order_body(key, None, "o1").await.unwrap().unwrap(),
        acted.as_bytes()
    );
    let refused = store
        .act_on_order(key, "o1", action(ActionKind::Accept, "reporter", NOW + 11))
        .await;
    assert!(matches!(
        refused,
        Err(StoreError::Rejected(Rejection::NotAllowed { .. }))
    ));
    let ghost = store
        .act_on_order(key, "ghost", action(ActionKind::Accept, "admin", NOW + 11))
        .await;
    assert!(matches!(ghost, Err(StoreError::NotFound(_))));

    // The modify-ordered walk ends with the order changed last.
    let walk = store.list_orders(key, query(50, 1, None)).await.unwrap();
    let last = walk.bodies().last().unwrap();
    assert_eq!(last, acted.as_bytes());
    assert_eq!(walk.orders.len(), 3);

    // Another corp sees none of it.
    let other = store
        .create_corp(NewCorp {
            corpid: id("story-other"),
            name: "别的".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    assert_eq!(store.order_body(other.key, None, "o1").await.unwrap(), None);
    assert!(
        store
            .list_orders(other.key, query(50, 0, None))
            .await
            .unwrap()
            .orders
            .is_empty()
    );
}

/// Runs of `patrol seed`: the record, and batches that land with their progress or not at all.
pub async fn seed_runs(store: &dyn Store) {
    let key = corp_with_a_grid(store, "story-seeds").await;

    let run = crate::SeedRun {
        seed: u64::MAX,
        orders: 3,
        anchor: NOW,
        landed: 0,
    };
    assert_eq!(store.begin_seed_run(key, run.clone()).await.unwrap(), run);
    let asked_otherwise = crate::SeedRun {
        orders: 5,
        anchor: NOW + 1,
        ..run.clone()
    };
    assert_eq!(
        store.begin_seed_run(key, asked_otherwise).await.unwrap(),
        run,
        "the recorded run stands"
    );
    store
        .insert_seed_batch(key, u64::MAX, 0, vec![order("s0", NOW), order("s1", NOW)])
        .await
        .unwrap();
    // A batch from the wrong position, or past the run's orders, changes nothing.
    for (from, orders) in [
        (0, vec![order("s2", NOW)]),
        (2, vec![order("s2", NOW), order("s3", NOW)]),
    ] {
        assert!(matches!(
            store.insert_seed_batch(key, u64::MAX, from, orders).await,
            Err(StoreError::Conflict(_))
        ));
    }
    // A batch whose orders cannot land leaves the progress where it was.
    assert!(
        store
            .insert_seed_batch(key, u64::MAX, 2, vec![order("s1", NOW)])
            .await
            .is_err()
    );
    let landed = store.begin_seed_run(key, run.clone()).await.unwrap();
    assert_eq!(landed.landed, 2);
    store
        .insert_seed_batch(key, u64::MAX, 2, vec![order("s2", NOW)])
        .await
        .unwrap();
    assert_eq!(store.begin_seed_run(key, run).await.unwrap().landed, 3);
    assert!(matches!(
        store
            .insert_seed_batch(key, 7, 0, vec![order("s9", NOW)])
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.order_body(key, None, "s9").await.unwrap().is_none());
    assert!(store.order_body(key, None, "s2").await.unwrap().is_some());
}

/// A corp created with everything it starts with: all of it, or, when any part is refused,
/// nothing (not even the corp), so that the same corp can be created afterwards.
pub async fn corp_setups(store: &dyn Store) {
    let setup = |corpid: &str| crate::CorpSetup {
        corp: NewCorp {
            corpid: id(corpid),
            name: corpid.into(),
            created_at: NOW,
        },
        apps: vec![app(1_000_002, "setup-secret-0123456789")],
        users: vec![
            NewUser {
                userid: id("reporter"),
                name: "上报人".into(),
            },
            NewUser {
                userid: id("worker"),
                name: "网格员".into(),
            },
        ],
        grids: vec![NewGrid {
            grid_id: id("g1"),
            name: "一号网格".into(),
            parent: None,
            admins: vec!["reporter".into()],
            members: vec!["worker".into()],
        }],
        categories: vec![
            NewCategory {
                category_id: id("c1"),
                name: "大类".into(),
                parent: None,
            },
            NewCategory {
                category_id: id("c1a"),
                name: "类别".into(),
                parent: Some("c1".into()),
            },
        ],
        orders: vec![order("setup-o1", NOW), order("setup-o2", NOW + 1)],
    };

    // Each part refused in turn, the last one first: nothing of the corp stays.
    let mut refused = Vec::new();
    let mut bad = setup("story-setup");
    bad.orders.push(order("setup-o1", NOW + 2));
    refused.push(bad);
    let mut bad = setup("story-setup");
    bad.categories.push(NewCategory {
        category_id: id("c2a"),
        name: "无上级".into(),
        parent: Some("nowhere".into()),
    });
    refused.push(bad);
    let mut bad = setup("story-setup");
    bad.grids[0].admins.push("nobody".into());
    refused.push(bad);
    let mut bad = setup("story-setup");
    bad.users.push(bad.users[0].clone());
    refused.push(bad);
    let mut bad = setup("story-setup");
    bad.apps.push(bad.apps[0].clone());
    refused.push(bad);
    for bad in refused {
        let answer = store.create_corp_with(bad.clone()).await;
        assert!(answer.is_err(), "{bad:?} was created: {answer:?}");
        assert_eq!(store.corp("story-setup").await.unwrap(), None, "{bad:?}");
    }

    let corp = store.create_corp_with(setup("story-setup")).await.unwrap();
    assert_eq!(store.corp("story-setup").await.unwrap(), Some(corp.clone()));
    let apps = store.list_apps(corp.key).await.unwrap();
    assert_eq!(
        apps.iter().map(|a| a.agentid).collect::<Vec<_>>(),
        [1_000_002]
    );
    let users = store.list_users(corp.key).await.unwrap();
    assert_eq!(users.len(), 2);
    let grids = store.list_grids(corp.key).await.unwrap();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].members, ["worker"]);
    let categories = store.list_categories(corp.key).await.unwrap();
    assert_eq!(
        categories
            .iter()
            .map(|c| (c.category_id.as_str(), c.level))
            .collect::<Vec<_>>(),
        [("c1", 1), ("c1a", 2)]
    );
    let page = store
        .list_orders(corp.key, query(10, 0, None))
        .await
        .unwrap();
    assert_eq!(page.bodies().count(), 2);
    // The corp's own writes go on from there.
    store
        .insert_orders(corp.key, vec![order("setup-o3", NOW + 2)])
        .await
        .unwrap();
    assert!(matches!(
        store.create_corp_with(setup("story-setup")).await,
        Err(StoreError::Conflict(_))
    ));
}

/// Polls every future until all are done: the writes are in flight together, as a server's are.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

/// Writes in flight together, some refused: each lands or fails alone, whatever the backend
/// commits together.
pub async fn concurrent_writes(store: &dyn Store) {
    let key = corp_with_a_grid(store, "story-together").await;
    for n in 0..8 {
        store
            .report_order(key, order(&format!("old{n}"), NOW))
            .await
            .unwrap();
    }

    // 48 reports at once: 32 new, 8 of existing ids, 8 in a grid that does not exist.
    let reports: Vec<_> = (0..48)
        .map(|n| {
            let mut report = match n % 6 {
                0 => order(&format!("old{}", n / 6), NOW),
                _ => order(&format!("new{n}"), NOW + 1),
            };
            if n % 6 == 1 {
                report.grid = "nowhere".into();
            }
            store.report_order(key, report)
        })
        .collect();
    let answers = join_all(reports).await;
    let mut landed = 0;
    for (n, answer) in answers.iter().enumerate() {
        match (n % 6, answer) {
            (0, Err(StoreError::Conflict(_))) => {}
            (1, Err(StoreError::Rejected(_) | StoreError::NotFound(_))) => {}
            (2.., Ok(body)) => {
                assert!(body.contains(&format!("\"new{n}\"")), "{body}");
                landed += 1;
            }
            (_, other) => panic!("report {n}: {other:?}"),
        }
    }
    assert_eq!(landed, 32);
    // Exactly the 40 orders, each once, in the sequence of their commits.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_orders(key, query(7, NOW, after)).await.unwrap();
        seen.extend(
            page.bodies()
                .map(|b| String::from_utf8(b.to_vec()).unwrap()),
        );
        match page.last_position() {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    assert_eq!(seen.len(), 40);
    for n in (0..48).filter(|n| n % 6 >= 2) {
        assert!(
            store
                .order_body(key, None, &format!("new{n}"))
                .await
                .unwrap()
                .is_some()
        );
    }
    for n in (0..48).filter(|n| n % 6 == 1) {
        assert!(
            store
                .order_body(key, None, &format!("new{n}"))
                .await
                .unwrap()
                .is_none()
        );
    }

    // A user who holds an open order (a current processor, in no grid) cannot be deleted; once
    // the order is finished, they can.
    let holder = NewUser {
        userid: id("holder"),
        name: "holder".into(),
    };
    store.create_user(key, holder).await.unwrap();
    let assign = ActionKind::Assign(vec!["holder".into()]);
    store
        .act_on_order(key, "old0", action(assign, "reporter", NOW + 2))
        .await
        .unwrap();
    let refused = store.delete_user(key, "holder").await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(message)) if message.contains("old0")),
        "{refused:?}"
    );
    store
        .act_on_order(key, "old0", action(ActionKind::Finish, "holder", NOW + 3))
        .await
        .unwrap();
    store.delete_user(key, "holder").await.unwrap();
}

/// Media: kept per corp, found by id within the corp only, one id once.
pub async fn media(store: &dyn Store) {
    use patrol_domain::media::{MediaFile, MediaType};
    let mut keys = Vec::new();
    for corpid in ["story-media", "story-media-other"] {
        let corp = store
            .create_corp(NewCorp {
                corpid: id(corpid),
                name: "素材".into(),
                created_at: NOW,
            })
            .await
            .unwrap();
        keys.push(corp.key);
    }
    let video = MediaFile {
        media_id: "3video".into(),
        media_type: MediaType::Video,
        blob: [7; 32],
        size: 1234,
        file_name: "巡查.mp4".into(),
        content_type: "video/mp4".into(),
        created_at: NOW,
        expires_at: Some(NOW + 3 * 86_400),
    };
    store.create_media(keys[0], video.clone()).await.unwrap();
    let forever = MediaFile {
        media_id: "3forever".into(),
        expires_at: None,
        ..video.clone()
    };
    store.create_media(keys[0], forever.clone()).await.unwrap();
    assert_eq!(
        store.media(keys[0], "3video").await.unwrap(),
        Some(video.clone())
    );
    assert_eq!(
        store.media(keys[0], "3forever").await.unwrap(),
        Some(forever)
    );
    assert!(matches!(
        store.create_media(keys[0], video.clone()).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.media(keys[1], "3video").await.unwrap(), None);
    assert_eq!(store.media(keys[0], "3nothing").await.unwrap(), None);
    // Another corp may hold the same id: ids are per corp.
    store.create_media(keys[1], video).await.unwrap();
}

/// Served image URLs: stored as such, made absolute in a page when asked.
pub async fn served_images(store: &dyn Store) {
    let key = corp_with_a_grid(store, "story-images").await;
    let served = patrol_domain::media::served_image_url("story-images", "3pic", "image/jpeg");
    let mut report = order("pic", NOW);
    report.description = format!("[\"{served}\"]");
    report.media.image_urls = vec!["https://a.example/x.jpg".into(), served.clone()];
    store.report_order(key, report).await.unwrap();

    let stored = store.order_body(key, None, "pic").await.unwrap().unwrap();
    let stored = String::from_utf8(stored).unwrap();
    assert!(
        stored.contains(&format!(r#""https://a.example/x.jpg","{served}""#)),
        "{stored}"
    );
    let raw = store.list_orders(key, query(10, 0, None)).await.unwrap();
    assert_eq!(raw.bodies().next().unwrap(), stored.as_bytes());
    let asked = ListQuery {
        family: patrol_domain::Family::Patrol,
        public_url: Some("https://p.example".into()),
        ..query(10, 0, None)
    };
    let resolved = store.list_orders(key, asked).await.unwrap();
    let body = String::from_utf8(resolved.bodies().next().unwrap().to_vec()).unwrap();
    assert!(
        body.contains(r#""image_urls":["https://a.example/x.jpg","https://p.example/media/images/story-images/3pic.jpg"]"#),
        "{body}"
    );
    // A user's text that looks the same is left alone.
    assert!(body.contains(&format!(r#"[\"{served}\"]"#)), "{body}");
}

/// The statistics and the two families: counts that follow every write at once, "today" as the
/// day given, grids with their subtrees, unknown ids, and each family on its own.
pub async fn statistics(store: &dyn Store) {
    use patrol_domain::stats::{CategoryRow, CorpStatus, Day, UserStatus};
    use patrol_domain::{Family, Resident};

    let key = corp_with_a_grid(store, "story-stats").await;
    let child = NewGrid {
        grid_id: id("g1a"),
        name: "子网格".into(),
        parent: Some("g1".into()),
        admins: vec!["reporter".into()],
        members: Vec::new(),
    };
    store.create_grid(key, child).await.unwrap();
    let today = Day {
        start: NOW - 100,
        end: NOW + 86_300,
    };
    let empty = store
        .corp_status(key, Family::Patrol, None, today)
        .await
        .unwrap();
    assert_eq!(empty, Some(CorpStatus::default()));
    let in_grid = |order_id: &str, grid: &str, time: i64| NewOrder {
        grid: grid.into(),
        ..order(order_id, time)
    };
    let resident = NewOrder {
        resident: Some(Resident {
            name: "居民".into(),
            ..Resident::default()
        }),
        category: None,
        ..order("r1", NOW)
    };
    store
        .insert_orders(
            key,
            vec![
                in_grid("s1", "g1", NOW - 200),
                in_grid("s2", "g1a", NOW),
                in_grid("s3", "g1a", NOW + 1),
                resident,
            ],
        )
        .await
        .unwrap();
    store
        .act_on_order(key, "s2", action(ActionKind::Accept, "reporter", NOW + 2))
        .await
        .unwrap();
    store
        .act_on_order(key, "s3", action(ActionKind::Finish, "reporter", NOW + 3))
        .await
        .unwrap();
    let status = |family, grid: Option<&'static str>| async move {
        store.corp_status(key, family, grid, today).await.unwrap()
    };
    assert_eq!(
        status(Family::Patrol, None).await,
        Some(CorpStatus {
            untaken: 1,
            processing: 1,
            added_today: 2,
            solved_today: 1,
            total_case: 3,
            total_accepted: 2,
            total_solved: 1,
        })
    );
    let subtree = status(Family::Patrol, Some("g1a")).await.unwrap();
    assert_eq!((subtree.total_case, subtree.added_today), (2, 2));
    assert_eq!(
        status(Family::Patrol, Some("g1")).await.unwrap().total_case,
        3
    );
    assert_eq!(status(Family::Patrol, Some("nope")).await, None);
    let resident = status(Family::Resident, None).await.unwrap();
    assert_eq!((resident.total_case, resident.untaken), (1, 1));
    // Another day: nothing of it happened today.
    let tomorrow = Day {
        start: today.end,
        end: today.end + 86_400,
    };
    let later = store
        .corp_status(key, Family::Patrol, None, tomorrow)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (later.added_today, later.solved_today, later.total_case),
        (0, 0, 3)
    );

    let user = store
        .user_status(key, Family::Patrol, "reporter", today)
        .await
        .unwrap();
    assert_eq!(
        user,
        Some(UserStatus {
            processing: 2,
            untaken: 1,
            added_today: 2,
            solved_today: 1,
        })
    );
    assert_eq!(
        store
            .user_status(key, Family::Patrol, "ghost", today)
            .await
            .unwrap(),
        None
    );
    let rows = store
        .category_statistic(key, Family::Resident, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rows,
        [
            CategoryRow {
                category_id: "c1a".into(),
                name: "类别".into(),
                level: 1,
                total_case: 0,
                total_solved: 0,
                category_type: 1,
            },
            CategoryRow {
                category_id: String::new(),
                name: patrol_domain::stats::OTHER_CATEGORY_NAME.into(),
                level: 1,
                total_case: 1,
                total_solved: 0,
                category_type: 0,
            }
        ]
    );
    let patrol = store
        .category_statistic(key, Family::Patrol, Some("c1a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patrol, []);
    assert_eq!(
        store
            .category_statistic(key, Family::Patrol, Some("nope"))
            .await
            .unwrap(),
        None
    );
    // Each family reads its own orders.
    assert!(
        store
            .order_body(key, Some(Family::Patrol), "r1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .order_body(key, Some(Family::Resident), "r1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.order_body(key, None, "r1").await.unwrap().is_some());
}

/// The order ids of a page of [`crate::OrderStore::list_corp_orders`], in order.
fn listed_ids(page: &patrol_domain::ListedPage) -> Vec<String> {
    page.bodies()
        .map(|body| {
            let order: serde_json::Value =
                serde_json::from_slice(body).expect("a stored body is JSON");
            order["order_id"]
                .as_str()
                .expect("an order has an order_id")
                .to_owned()
        })
        .collect()
}

/// Every order of the corp that passes `filter`, walked `limit` at a time from page to page.
async fn walk_corp_orders(
    store: &dyn Store,
    key: i64,
    filter: &patrol_domain::OrderFilter,
    limit: u32,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_corp_orders(
                key,
                patrol_domain::CorpOrdersQuery {
                    filter: filter.clone(),
                    after,
                    limit,
                    public_url: None,
                },
            )
            .await
            .unwrap();
        assert!(page.orders.len() <= limit as usize);
        ids.extend(listed_ids(&page));
        if !page.more {
            return ids;
        }
        after = page.last_position();
        assert!(after.is_some(), "a page followed by more is not empty");
    }
}

/// The administration API's list of a corp's orders: both families, newest first (ties by
/// creation), each filter alone and combined, paged without loss or repeats, and never another
/// corp's.
pub async fn corp_orders(store: &dyn Store) {
    use patrol_domain::{OrderFilter, Stage};
    let key = corp_with_a_grid(store, "story-list").await;
    let other = corp_with_a_grid(store, "story-list-other").await;
    let grid = NewGrid {
        grid_id: id("g2"),
        name: "二号网格".into(),
        parent: None,
        admins: vec!["reporter".into()],
        members: Vec::new(),
    };
    store.create_grid(key, grid).await.unwrap();
    let category = NewCategory {
        category_id: id("c2"),
        name: "另一类别".into(),
        parent: None,
    };
    store.create_category(key, category).await.unwrap();
    // o0..o8: o3 and o4 created in the same second; o1, o4 and o7 in g2; o2 and o5 of c2; o0
    // and o6 urgent; o8 a resident's.
    let mut orders = Vec::new();
    for i in 0..9 {
        let mut new = order(
            &format!("o{i}"),
            NOW - 100 + i64::from(i) * 10 - i64::from(i == 4) * 10,
        );
        if [1, 4, 7].contains(&i) {
            new.grid = "g2".into();
        }
        if [2, 5].contains(&i) {
            new.category = Some("c2".into());
        }
        if [0, 6].contains(&i) {
            new.urgency = Urgency::Urgent;
        }
        if i == 8 {
            new.resident = Some(patrol_domain::Resident {
                name: "居民".into(),
                mobile: String::new(),
                unionid: String::new(),
            });
        }
        orders.push(new);
    }
    store.insert_orders(key, orders).await.unwrap();
    store
        .insert_orders(other, vec![order("elsewhere", NOW)])
        .await
        .unwrap();
    let finish = action(ActionKind::Finish, "reporter", NOW + 10);
    store.act_on_order(key, "o1", finish).await.unwrap();
    let reject = action(ActionKind::Reject, "reporter", NOW + 10);
    store.act_on_order(key, "o2", reject).await.unwrap();
    let accept = action(ActionKind::Accept, "reporter", NOW + 10);
    store.act_on_order(key, "o4", accept).await.unwrap();

    let all = OrderFilter::default();
    let newest_first = ["o8", "o7", "o6", "o5", "o4", "o3", "o2", "o1", "o0"];
    for limit in [1, 2, 4, 9, 50] {
        assert_eq!(
            walk_corp_orders(store, key, &all, limit).await,
            newest_first,
            "pages of {limit}"
        );
    }
    let expect = |filter: OrderFilter, ids: &[&str]| {
        let filter = filter.clone();
        let ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
        async move {
            assert_eq!(
                walk_corp_orders(store, key, &filter, 2).await,
                ids,
                "{filter:?}"
            );
        }
    };
    let in_g2 = OrderFilter {
        grid: Some("g2".into()),
        ..all.clone()
    };
    expect(in_g2.clone(), &["o7", "o4", "o1"]).await;
    expect(
        OrderFilter {
            category: Some("c2".into()),
            ..all.clone()
        },
        &["o5", "o2"],
    )
    .await;
    expect(
        OrderFilter {
            urgency: Some(Urgency::Urgent),
            ..all.clone()
        },
        &["o6", "o0"],
    )
    .await;
    expect(
        OrderFilter {
            stages: vec![Stage::Solved],
            ..all.clone()
        },
        &["o1"],
    )
    .await;
    expect(
        OrderFilter {
            stages: vec![Stage::Solved, Stage::Rejected],
            ..all.clone()
        },
        &["o2", "o1"],
    )
    .await;
    expect(
        OrderFilter {
            stages: vec![Stage::New, Stage::Processing],
            ..in_g2.clone()
        },
        &["o7", "o4"],
    )
    .await;
    // The window is on the creation time: at or after `since`, before `until`.
    expect(
        OrderFilter {
            since: Some(NOW - 70),
            until: Some(NOW - 40),
            ..all.clone()
        },
        &["o5", "o4", "o3"],
    )
    .await;
    expect(
        OrderFilter {
            since: Some(NOW - 70),
            until: Some(NOW - 40),
            stages: vec![Stage::Processing],
            grid: Some("g2".into()),
            urgency: Some(Urgency::Important),
            category: Some("c1a".into()),
        },
        &["o4"],
    )
    .await;
    for unknown in [
        OrderFilter {
            grid: Some("nowhere".into()),
            ..all.clone()
        },
        OrderFilter {
            category: Some("nothing".into()),
            ..all.clone()
        },
        OrderFilter {
            grid: Some("g\0".into()),
            ..all.clone()
        },
    ] {
        expect(unknown, &[]).await;
    }
    assert_eq!(
        walk_corp_orders(store, other, &all, 50).await,
        ["elsewhere"]
    );
}

/// A corp renamed or given another creation time; a token of its app carries the new time at
/// once.
pub async fn corp_updates(store: &dyn Store) {
    let corp = store
        .create_corp(NewCorp {
            corpid: id("story-update"),
            name: "旧名".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    store.create_app(corp.key, app(0, "secret")).await.unwrap();
    let token = match store
        .grant_token("story-update", "secret", NOW, 7200, [3; 32])
        .await
        .unwrap()
    {
        TokenGrant::Granted { token, .. } => token,
        other => panic!("no token: {other:?}"),
    };
    assert!(matches!(
        store.authenticate(&token, NOW).await.unwrap(),
        TokenStatus::Valid(caller) if caller.corp_created_at == NOW
    ));
    let renamed = store
        .update_corp(
            corp.key,
            patrol_domain::CorpPatch {
                name: Some("新名".into()),
                created_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.created_at), ("新名", NOW));
    let older = store
        .update_corp(
            corp.key,
            patrol_domain::CorpPatch {
                name: None,
                created_at: Some(1_600_000_000),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (older.corpid.as_str(), older.name.as_str(), older.created_at),
        ("story-update", "新名", 1_600_000_000)
    );
    assert_eq!(store.corp("story-update").await.unwrap(), Some(older));
    assert!(matches!(
        store.authenticate(&token, NOW).await.unwrap(),
        TokenStatus::Valid(caller) if caller.corp_created_at == 1_600_000_000
    ));
    assert!(matches!(
        store
            .update_corp(
                corp.key,
                patrol_domain::CorpPatch {
                    name: Some(" ".into()),
                    created_at: None,
                },
            )
            .await,
        Err(StoreError::Rejected(_))
    ));
}

/// A corp deleted: an empty one at once, one that holds anything only with `force`, then with
/// everything of it; its tokens refused at once; the blobs only it named reported.
pub async fn corp_deletions(store: &dyn Store) {
    use patrol_domain::media::{MediaFile, MediaType};
    let empty = store
        .create_corp(NewCorp {
            corpid: id("story-delete-empty"),
            name: "空".into(),
            created_at: NOW,
        })
        .await
        .unwrap();
    let deleted = store
        .delete_corp("story-delete-empty", false)
        .await
        .unwrap();
    assert!(deleted.held.is_empty() && deleted.unreferenced_blobs.is_empty());
    assert_eq!(store.corp("story-delete-empty").await.unwrap(), None);
    assert!(matches!(
        store.delete_corp("story-delete-empty", true).await,
        Err(StoreError::NotFound(_))
    ));
    let _ = empty;

    let key = corp_with_a_grid(store, "story-delete").await;
    let keeper = corp_with_a_grid(store, "story-delete-keeper").await;
    store.create_app(key, app(0, "doomed")).await.unwrap();
    store
        .insert_orders(key, vec![order("d1", NOW), order("d2", NOW)])
        .await
        .unwrap();
    let medium = |media_id: &str, blob: u8| MediaFile {
        media_id: media_id.into(),
        media_type: MediaType::Image,
        blob: [blob; 32],
        size: 10,
        file_name: "a.png".into(),
        content_type: "image/png".into(),
        created_at: NOW,
        expires_at: None,
    };
    store.create_media(key, medium("only", 41)).await.unwrap();
    store.create_media(key, medium("shared", 42)).await.unwrap();
    store
        .create_media(keeper, medium("shared", 42))
        .await
        .unwrap();
    let token = match store
        .grant_token("story-delete", "doomed", NOW, 7200, [4; 32])
        .await
        .unwrap()
    {
        TokenGrant::Granted { token, .. } => token,
        other => panic!("no token: {other:?}"),
    };
    assert!(matches!(
        store.authenticate(&token, NOW).await.unwrap(),
        TokenStatus::Valid(_)
    ));
    match store.delete_corp("story-delete", false).await {
        Err(StoreError::Conflict(message)) => assert_eq!(
            message,
            "corp story-delete holds 1 app, 1 user, 1 grid, 1 category, 2 orders and 2 media: \
             delete them first, or delete the corp with force"
        ),
        other => panic!("a corp with data is kept without force, not {other:?}"),
    }
    assert!(store.corp("story-delete").await.unwrap().is_some());
    assert!(store.order_body(key, None, "d1").await.unwrap().is_some());
    assert!(matches!(
        store.authenticate(&token, NOW).await.unwrap(),
        TokenStatus::Valid(_)
    ));

    let deleted = store.delete_corp("story-delete", true).await.unwrap();
    assert_eq!(
        deleted.held,
        crate::transfer::CorpHoldings {
            apps: 1,
            users: 1,
            grids: 1,
            categories: 1,
            orders: 2,
            media: 2,
        }
    );
    assert_eq!(deleted.unreferenced_blobs, vec![[41; 32]]);
    assert_eq!(store.corp("story-delete").await.unwrap(), None);
    assert_eq!(store.order_body(key, None, "d1").await.unwrap(), None);
    assert_eq!(store.media(key, "only").await.unwrap(), None);
    assert_eq!(
        store.authenticate(&token, NOW).await.unwrap(),
        TokenStatus::Unknown
    );
    assert_eq!(
        store
            .grant_token("story-delete", "doomed", NOW, 7200, [5; 32])
            .await
            .unwrap(),
        TokenGrant::UnknownCorp
    );
    // The other corp keeps everything, the shared medium too.
    assert!(store.media(keeper, "shared").await.unwrap().is_some());
    assert_eq!(store.list_grids(keeper).await.unwrap().len(), 1);
    // The corpid is free again, and the new corp starts empty.
    let again = corp_with_a_grid(store, "story-delete").await;
    assert_eq!(
        walk_corp_orders(store, again, &patrol_domain::OrderFilter::default(), 10).await,
        Vec::<String>::new()
    );
}
