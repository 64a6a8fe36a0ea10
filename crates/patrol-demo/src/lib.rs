//! The demo corp and the dataset generator: a fixed corp in 杭州市西湖区 with its apps, users,
//! grids and categories, and orders generated deterministically from a seed. `patrol serve
//! --demo` and `patrol seed` both use it, through the store traits only.
//!
//! Order `i` of a dataset is a pure function of `(seed, i, total, anchor)`, so a dataset can be
//! generated in batches, in any order, and is the same on every run.

pub mod media;

use patrol_domain::media::{MediaFile, MediaType};
use patrol_domain::{
    Action, ActionKind, AgentId, AppKind, Clock, Corp, Family, Location, Media, NewApp,
    NewCategory, NewCorp, NewGrid, NewOrder, NewUser, OrderId, Resident, Urgency,
};
use patrol_media::BlobStore;
use patrol_store::{CorpSetup, Store, StoreError};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The demo corp's corpid.
pub const DEMO_CORPID: &str = "wwpatroldemo000001";
/// The demo corp's name.
pub const DEMO_CORP_NAME: &str = "杭州市西湖区城市运行管理中心（演示）";
/// The demo corp's creation time: 2024-03-01 00:00 +08:00, after WeCom's 2023-12-01 rule, so its
/// system app is refused (48002).
pub const DEMO_CORP_CREATED_AT: i64 = 1_709_222_400;
/// The patrol-enabled custom app.
pub const DEMO_PATROL_AGENTID: i64 = 1_000_002;
/// The secret of the patrol-enabled custom app.
pub const DEMO_PATROL_SECRET: &str = "patrol-demo-secret-0123456789abcdefghijklmno";
/// A custom app that is not enabled for patrol: its token gets 48002 on `report/patrol/*`.
pub const DEMO_OTHER_AGENTID: i64 = 1_000_003;
/// The secret of the app that is not enabled for patrol.
pub const DEMO_OTHER_SECRET: &str = "other-demo-secret-0123456789abcdefghijklmnop";
/// The built-in patrol app (a system app): 48002, the corp being created after 2023-12-01.
pub const DEMO_SYSTEM_AGENTID: i64 = 3_010_185;
/// The secret of the system app.
pub const DEMO_SYSTEM_SECRET: &str = "system-demo-secret-0123456789abcdefghijklmno";
/// The two shell commands that try the demo on a server at `base_url` (without a trailing
/// slash): the first calls `gettoken` with the patrol app's credentials and keeps the token in
/// `$TOKEN`, the second lists two orders with it. The CLI's banner joins them with ` && `; the
/// front page shows them one a line.
pub fn try_it(base_url: &str) -> [String; 2] {
    [
        format!(
            "TOKEN=$(curl -s '{base_url}/cgi-bin/gettoken?corpid={DEMO_CORPID}&corpsecret={DEMO_PATROL_SECRET}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')"
        ),
        format!(
            "curl -s -X POST \"{base_url}/cgi-bin/report/patrol/get_order_list?access_token=$TOKEN\" -d '{{\"limit\":2}}'"
        ),
    ]
}

/// How many orders `patrol serve --demo` installs.
pub const DEMO_ORDERS: u64 = 240;
/// The seed of the demo orders.
pub const DEMO_SEED: u64 = 20_231_201;
/// How many resident orders (居民上报) the demo corp has, beside its patrol orders.
pub const DEMO_RESIDENT_ORDERS: u64 = 60;
/// The seed of the demo's resident orders.
pub const DEMO_RESIDENT_SEED: u64 = 20_231_202;
/// Orders are spread over this many seconds before the anchor.
pub const SPAN_SECONDS: i64 = 30 * 24 * 3600;

/// (userid, name).
const USERS: &[(&str, &str)] = &[
    ("zhangwei", "张伟"),
    ("wangfang", "王芳"),
    ("liqiang", "李强"),
    ("liuyang", "刘洋"),
    ("chenjing", "陈静"),
    ("yangmin", "杨敏"),
    ("zhaolei", "赵磊"),
    ("huangli", "黄丽"),
    ("zhoujie", "周杰"),
    ("wuxia", "吴霞"),
    ("sunhao", "孙浩"),
];

/// A grid of the demo tree.
struct DemoGrid {
    grid_id: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    admins: &'static [&'static str],
    members: &'static [&'static str],
    /// Centre of the grid (latitude, longitude); leaf grids only.
    centre: (f64, f64),
    /// (place name, address) of the grid; leaf grids only.
    places: &'static [(&'static str, &'static str)],
}

const GRIDS: &[DemoGrid] = &[
    DemoGrid {
        grid_id: "xihu",
        name: "西湖区",
        parent: None,
        admins: &["zhangwei"],
        members: &[],
        centre: (0.0, 0.0),
        places: &[],
    },
    DemoGrid {
        grid_id: "xihu-beishan",
        name: "北山街道",
        parent: Some("xihu"),
        admins: &["wangfang", "zhangwei"],
        members: &[],
        centre: (0.0, 0.0),
        places: &[],
    },
    DemoGrid {
        grid_id: "xihu-beishan-shuguang",
        name: "曙光社区网格",
        parent: Some("xihu-beishan"),
        admins: &["wangfang"],
        members: &["liuyang", "chenjing"],
        centre: (30.2722, 120.1431),
        places: &[
            ("曙光路小区", "杭州市西湖区曙光路122号"),
            ("黄龙体育中心东门", "杭州市西湖区曙光路1号"),
            ("杭大新村菜市场", "杭州市西湖区杭大路34号"),
            ("曙光路公交站", "杭州市西湖区曙光路与杭大路交叉口"),
        ],
    },
    DemoGrid {
        grid_id: "xihu-beishan-baoshi",
        name: "宝石社区网格",
        parent: Some("xihu-beishan"),
        admins: &["wangfang"],
        members: &["yangmin"],
        centre: (30.2668, 120.1502),
        places: &[
            ("宝石山下一弄", "杭州市西湖区保俶路宝石山下一弄"),
            ("保俶路沿街商铺", "杭州市西湖区保俶路58号"),
            ("宝石新村", "杭州市西湖区宝石二路15号"),
        ],
    },
    DemoGrid {
        grid_id: "xihu-xixi",
        name: "西溪街道",
        parent: Some("xihu"),
        admins: &["liqiang"],
        members: &[],
        centre: (0.0, 0.0),
        places: &[],
    },
    DemoGrid {
        grid_id: "xihu-xixi-wenxin",
        name: "文新社区网格",
        parent: Some("xihu-xixi"),
        admins: &["liqiang"],
        members: &["zhaolei", "huangli"],
        centre: (30.2893, 120.1178),
        places: &[
            ("文新路农贸市场", "杭州市西湖区文新路210号"),
            ("学院路地铁站C口", "杭州市西湖区学院路与文一西路交叉口"),
            ("文鼎苑小区", "杭州市西湖区文二西路120号"),
            ("文新公园", "杭州市西湖区文新路与莫干山路交叉口"),
        ],
    },
    DemoGrid {
        grid_id: "xihu-xixi-gudang",
        name: "古荡社区网格",
        parent: Some("xihu-xixi"),
        admins: &["liqiang", "zhangwei"],
        members: &["zhoujie", "wuxia"],
        centre: (30.2801, 120.1262),
        places: &[
            ("古荡新村", "杭州市西湖区古荡新村东区8幢"),
            ("天目山路沿街店铺", "杭州市西湖区天目山路318号"),
            ("古荡湾小学门口", "杭州市西湖区古墩路与天目山路交叉口"),
        ],
    },
    DemoGrid {
        grid_id: "xihu-lingyin",
        name: "灵隐街道",
        parent: Some("xihu"),
        admins: &["zhangwei"],
        members: &[],
        centre: (0.0, 0.0),
        places: &[],
    },
    DemoGrid {
        grid_id: "xihu-lingyin-maojiabu",
        name: "茅家埠社区网格",
        parent: Some("xihu-lingyin"),
        admins: &["zhangwei"],
        members: &["sunhao"],
        centre: (30.2462, 120.1335),
        places: &[
            ("茅家埠停车场", "杭州市西湖区龙井路茅家埠停车场"),
            ("龙井路沿线农家乐", "杭州市西湖区龙井路66号"),
            ("茅家埠码头", "杭州市西湖区杨公堤茅家埠码头"),
        ],
    },
];

/// A leaf category with the descriptions a reporter might write; `{}` is the place.
struct DemoCategory {
    category_id: &'static str,
    name: &'static str,
    parent: &'static str,
    descriptions: &'static [&'static str],
}

/// (category_id, name) of the level-1 categories.
const GROUPS: &[(&str, &str)] = &[
    ("cat-env", "市容环境"),
    ("cat-facility", "公共设施"),
    ("cat-safety", "安全隐患"),
    ("cat-traffic", "交通秩序"),
    ("cat-eco", "生态环境"),
];

const CATEGORIES: &[DemoCategory] = &[
    DemoCategory {
        category_id: "cat-env-garbage",
        name: "暴露垃圾",
        parent: "cat-env",
        descriptions: &[
            "{}附近有生活垃圾堆放未清运，已有异味，请尽快安排清理。",
            "{}垃圾桶满溢，周边散落垃圾较多，影响环境卫生。",
        ],
    },
    DemoCategory {
        category_id: "cat-env-stacking",
        name: "乱堆物料",
        parent: "cat-env",
        descriptions: &[
            "{}门口堆放大量装修建筑垃圾，占用人行道，行人需绕行机动车道。",
            "{}楼道内堆放纸箱杂物，存在消防隐患。",
        ],
    },
    DemoCategory {
        category_id: "cat-env-vending",
        name: "占道经营",
        parent: "cat-env",
        descriptions: &[
            "{}有流动摊贩占道经营水果，早晚高峰影响通行。",
            "{}沿街商铺出店经营，桌椅摆到人行道上。",
        ],
    },
    DemoCategory {
        category_id: "cat-facility-manhole",
        name: "井盖缺失破损",
        parent: "cat-facility",
        descriptions: &[
            "{}人行道上一处窨井盖破损下陷，夜间行人容易踩空，请尽快修复。",
            "{}路口雨水井盖缺失，已临时用锥桶围挡。",
        ],
    },
    DemoCategory {
        category_id: "cat-facility-streetlight",
        name: "路灯损坏",
        parent: "cat-facility",
        descriptions: &[
            "{}路段连续三盏路灯不亮，夜间照明不足。",
            "{}路灯灯杆倾斜，底座锈蚀严重。",
        ],
    },
    DemoCategory {
        category_id: "cat-safety-exit",
        name: "消防通道堵塞",
        parent: "cat-safety",
        descriptions: &[
            "{}消防通道被私家车长期占用，消防车无法通行。",
            "{}安全出口被杂物封堵，需立即清理。",
        ],
    },
    DemoCategory {
        category_id: "cat-safety-ebike",
        name: "电动车违规充电",
        parent: "cat-safety",
        descriptions: &[
            "{}有居民从楼上拉电线给电动车飞线充电。",
            "{}楼道内停放电动自行车并充电，存在火灾隐患。",
        ],
    },
    DemoCategory {
        category_id: "cat-traffic-parking",
        name: "违章停车",
        parent: "cat-traffic",
        descriptions: &[
            "{}门口机动车乱停放，堵塞非机动车道。",
            "{}共享单车大量堆积，占用盲道。",
        ],
    },
    DemoCategory {
        category_id: "cat-traffic-road",
        name: "道路破损",
        parent: "cat-traffic",
        descriptions: &[
            "{}路面出现坑洼，雨天积水，电动车通过时容易摔倒。",
            "{}人行道地砖松动翘起多块。",
        ],
    },
    DemoCategory {
        category_id: "cat-eco-fumes",
        name: "油烟扰民",
        parent: "cat-eco",
        descriptions: &[
            "{}餐饮店油烟直排，周边居民反映强烈。",
            "{}露天烧烤产生大量油烟。",
        ],
    },
    DemoCategory {
        category_id: "cat-eco-noise",
        name: "噪声扰民",
        parent: "cat-eco",
        descriptions: &[
            "{}夜间施工噪声较大，已超过晚上十点。",
            "{}商铺使用高音喇叭招揽生意，噪声扰民。",
        ],
    },
];

/// The apps of the demo corp: (agentid, name, kind, patrol enabled, secret).
const APPS: &[(i64, &str, AppKind, bool, &str)] = &[
    (
        DEMO_PATROL_AGENTID,
        "巡查数据对接",
        AppKind::Custom,
        true,
        DEMO_PATROL_SECRET,
    ),
    (
        DEMO_OTHER_AGENTID,
        "通讯录助手",
        AppKind::Custom,
        false,
        DEMO_OTHER_SECRET,
    ),
    (
        DEMO_SYSTEM_AGENTID,
        "巡查上报",
        AppKind::System,
        false,
        DEMO_SYSTEM_SECRET,
    ),
];

/// One of the demo's fixed ids, which are all well-formed (a test checks them all).
fn valid<T>(text: &str) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    text.parse().expect("the demo's ids are well-formed")
}

/// How many writes an installation of the demo corp ([`ensure_corp_within`],
/// [`install_within`]) may make: all it needs, or, for the tests, only its first `n`, after
/// which it stops with an error, leaving the database as a kill at that moment would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writes {
    left: Option<u64>,
}

impl Writes {
    /// Every write the installation needs.
    pub fn all() -> Writes {
        Writes { left: None }
    }

    /// Only the first `n` writes.
    pub fn first(n: u64) -> Writes {
        Writes { left: Some(n) }
    }

    /// Counts one write about to be made, or stops the installation.
    fn take(&mut self) -> Result<(), StoreError> {
        match &mut self.left {
            None => Ok(()),
            Some(0) => Err(StoreError::backend(STOPPED)),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
        }
    }
}

/// The error of an installation stopped by [`Writes::first`].
pub const STOPPED: &str = "the demo's installation stopped after its allowed writes";

/// The demo corp with its apps, users, grids and categories, and `orders`.
fn setup(clock: &Clock, orders: Vec<NewOrder>) -> CorpSetup {
    let strings = |list: &[&str]| list.iter().map(ToString::to_string).collect();
    let groups = GROUPS.iter().map(|&(category_id, name)| NewCategory {
        category_id: valid(category_id),
        name: name.into(),
        parent: None,
    });
    let leaves = CATEGORIES.iter().map(|category| NewCategory {
        category_id: valid(category.category_id),
        name: category.name.into(),
        parent: Some(category.parent.into()),
    });
    CorpSetup {
        corp: NewCorp {
            corpid: valid(DEMO_CORPID),
            name: DEMO_CORP_NAME.into(),
            created_at: DEMO_CORP_CREATED_AT,
        },
        apps: APPS
            .iter()
            .map(|&(agentid, name, kind, patrol_enabled, secret)| NewApp {
                agentid: Some(AgentId::new(agentid).expect("the demo's agentids are positive")),
                name: name.into(),
                kind,
                // The demo's one secret opens every family: 巡查上报, 居民上报 and 居民联系.
                patrol_enabled,
                resident_enabled: patrol_enabled,
                contact_enabled: patrol_enabled,
                enabled: true,
                secret: secret.into(),
                created_at: clock.now(),
            })
            .collect(),
        users: USERS
            .iter()
            .map(|&(userid, name)| NewUser {
                userid: valid(userid),
                name: name.into(),
            })
            .collect(),
        grids: GRIDS
            .iter()
            .map(|grid| NewGrid {
                grid_id: valid(grid.grid_id),
                name: grid.name.into(),
                parent: grid.parent.map(String::from),
                admins: strings(grid.admins),
                members: strings(grid.members),
            })
            .collect(),
        categories: groups.chain(leaves).collect(),
        orders,
    }
}

/// Creates the demo corp with its apps, users, grids and categories, unless it exists, and its
/// media where missing. Returns the corp and whether it was created.
pub async fn ensure_corp(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &Clock,
) -> Result<(Corp, bool), StoreError> {
    ensure_corp_within(store, blobs, clock, &mut Writes::all()).await
}

/// [`ensure_corp`] within `writes`.
pub async fn ensure_corp_within(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &Clock,
    writes: &mut Writes,
) -> Result<(Corp, bool), StoreError> {
    ensure(store, blobs, clock, writes, Vec::new).await
}

/// The demo corp, created with `orders()` when missing, and its media.
///
/// The corp and everything of it but its media are created in one transaction
/// ([`patrol_store::DirectoryStore::create_corp_with`]): a corp that exists is whole. The media
/// follow, each ensured where missing ([`ensure_media`]), on every call: an installation killed
/// at any moment is finished by the next call, which also leaves a whole corp alone.
async fn ensure(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &Clock,
    writes: &mut Writes,
    orders: impl FnOnce() -> Vec<NewOrder>,
) -> Result<(Corp, bool), StoreError> {
    let (corp, created) = match store.corp(DEMO_CORPID).await? {
        Some(corp) => (corp, false),
        None => {
            writes.take()?;
            match store.create_corp_with(setup(clock, orders())).await {
                Ok(corp) => (corp, true),
                // Created meanwhile by another process (on PostgreSQL): it is whole too.
                Err(StoreError::Conflict(message)) => match store.corp(DEMO_CORPID).await? {
                    Some(corp) => (corp, false),
                    None => return Err(StoreError::Conflict(message)),
                },
                Err(error) => return Err(error),
            }
        }
    };
    ensure_media_within(store, blobs, corp.key, clock, writes).await?;
    Ok((corp, created))
}

/// Images the demo's and seeded orders show: [`IMAGE_POOL`] of them, by media id.
pub const IMAGE_POOL: usize = 24;
/// Videos of the demo's and seeded orders: [`VIDEO_POOL`] of them, by media id.
pub const VIDEO_POOL: usize = 4;

/// The media id of pool image `index`.
pub fn pool_image_id(index: usize) -> String {
    format!("3demoimage{index:02}")
}

/// The media id of pool video `index`.
pub fn pool_video_id(index: usize) -> String {
    format!("3demovideo{index}")
}

/// Puts the pool's images and videos (generated, `media::image` and `media::video` of their
/// ids) into the blob store and the corp's media, where missing. They never expire.
pub async fn ensure_media(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    corp_key: i64,
    clock: &Clock,
) -> Result<(), StoreError> {
    ensure_media_within(store, blobs, corp_key, clock, &mut Writes::all()).await
}

/// [`ensure_media`] within `writes`: each medium is two writes, its blob then its row.
async fn ensure_media_within(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    corp_key: i64,
    clock: &Clock,
    writes: &mut Writes,
) -> Result<(), StoreError> {
    let pool = (0..IMAGE_POOL)
        .map(|i| (pool_image_id(i), MediaType::Image))
        .chain((0..VIDEO_POOL).map(|i| (pool_video_id(i), MediaType::Video)));
    for (media_id, media_type) in pool {
        if let Some(kept) = store.media(corp_key, &media_id).await?
            && blobs
                .size(patrol_media::BlobId::from_bytes(kept.blob))
                .await
                .map_err(StoreError::backend)?
                .is_some()
        {
            continue;
        }
        let (bytes, content_type, file_name) = match media_type {
            MediaType::Image => (
                media::image(&media_id),
                media::IMAGE_CONTENT_TYPE,
                format!("{media_id}.jpg"),
            ),
            _ => (
                media::video(&media_id),
                media::VIDEO_CONTENT_TYPE,
                format!("{media_id}.mp4"),
            ),
        };
        writes.take()?;
        let stored = blobs
            .put(&mut bytes.as_slice(), u64::MAX)
            .await
            .map_err(StoreError::backend)?;
        let media = MediaFile {
            media_id,
            media_type,
            blob: *stored.id.as_bytes(),
            size: stored.size,
            file_name,
            content_type: content_type.to_owned(),
            created_at: clock.now(),
            expires_at: None,
        };
        writes.take()?;
        match store.create_media(corp_key, media).await {
            // Kept already (its blob was missing and is back now).
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Installs the demo corp with [`DEMO_ORDERS`] orders over the 30 days before the clock's
/// current hour, in the corp's one transaction, unless the corp exists already; finishes its
/// media in any case (see [`ensure_corp`]).
pub async fn install(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &Clock,
) -> Result<Corp, StoreError> {
    install_within(store, blobs, clock, &mut Writes::all()).await
}

/// [`install`] within `writes`.
pub async fn install_within(
    store: &dyn Store,
    blobs: &dyn BlobStore,
    clock: &Clock,
    writes: &mut Writes,
) -> Result<Corp, StoreError> {
    let orders = || {
        let anchor = anchor(clock.now());
        let patrol = Generator::new(DEMO_SEED, DEMO_ORDERS, anchor);
        let resident = Generator::resident(DEMO_RESIDENT_SEED, DEMO_RESIDENT_ORDERS, anchor);
        (0..DEMO_ORDERS)
            .map(|i| patrol.order(i))
            .chain((0..DEMO_RESIDENT_ORDERS).map(|i| resident.order(i)))
            .collect()
    };
    let (corp, created) = ensure(store, blobs, clock, writes, orders).await?;
    if created {
        tracing::info!(
            orders = DEMO_ORDERS,
            resident_orders = DEMO_RESIDENT_ORDERS,
            "installed the demo corp"
        );
    }
    Ok(corp)
}

/// The anchor of a dataset made now: the current hour, so that reruns within the hour agree.
pub fn anchor(now: i64) -> i64 {
    now - now.rem_euclid(3600)
}

/// The final state of a generated order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalState {
    New,
    Assigned,
    Transferred,
    InProgress,
    Done,
    Rejected,
}

impl FinalState {
    /// Relative weights of the states in a dataset.
    const WEIGHTS: [(FinalState, u32); 6] = [
        (FinalState::New, 12),
        (FinalState::Assigned, 12),
        (FinalState::Transferred, 10),
        (FinalState::InProgress, 16),
        (FinalState::Done, 38),
        (FinalState::Rejected, 12),
    ];

    fn pick(rng: &mut impl Rng) -> FinalState {
        let total: u32 = Self::WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut roll = rng.random_range(0..total);
        for (state, weight) in Self::WEIGHTS {
            if roll < weight {
                return state;
            }
            roll -= weight;
        }
        FinalState::Done
    }
}

/// Generates the orders of one dataset.
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    total: u64,
    anchor: i64,
    family: Family,
}

impl Generator {
    /// A dataset of `total` orders created over the 30 days before `anchor` (Unix seconds),
    /// showing the pool's images and videos ([`ensure_media`]).
    pub fn new(seed: u64, total: u64, anchor: i64) -> Generator {
        Generator {
            seed,
            total: total.max(1),
            anchor,
            family: Family::Patrol,
        }
    }

    /// As [`Generator::new`], of resident orders (居民上报): each also names the resident who
    /// reported it, drawn after everything a patrol order draws.
    pub fn resident(seed: u64, total: u64, anchor: i64) -> Generator {
        Generator {
            family: Family::Resident,
            ..Generator::new(seed, total, anchor)
        }
    }

    /// A resident of Hangzhou: a name, a mobile number and a unionid, each unknown (`""`) by
    /// chance.
    fn resident_reporter(rng: &mut ChaCha8Rng) -> Resident {
        const SURNAMES: [&str; 12] = [
            "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
        ];
        const GIVEN: [&str; 12] = [
            "秀英", "建国", "桂兰", "志强", "丽华", "海燕", "国平", "淑珍", "晓东", "美玲", "文杰",
            "玉梅",
        ];
        const UNIONID: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let name = format!(
            "{}{}",
            SURNAMES[rng.random_range(0..SURNAMES.len())],
            GIVEN[rng.random_range(0..GIVEN.len())]
        );
        let mobile = format!(
            "1{}{:09}",
            rng.random_range(3..=9),
            rng.random_range(0..1_000_000_000u32)
        );
        let unionid: String = std::iter::once('o')
            .chain((0..27).map(|_| UNIONID[rng.random_range(0..UNIONID.len())] as char))
            .collect();
        Resident {
            name: if rng.random_bool(0.95) {
                name
            } else {
                String::new()
            },
            mobile: if rng.random_bool(0.8) {
                mobile
            } else {
                String::new()
            },
            unionid: if rng.random_bool(0.7) {
                unionid
            } else {
                String::new()
            },
        }
    }

    fn rng(&self, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(index);
        rng
    }

    /// Up to `max` images of the pool, as stored URLs that every answer makes absolute.
    fn image_urls(rng: &mut ChaCha8Rng, max: u32) -> Vec<String> {
        (0..rng.random_range(0..=max))
            .map(|_| {
                let id = pool_image_id(rng.random_range(0..IMAGE_POOL));
                patrol_domain::media::served_image_url(DEMO_CORPID, &id, media::IMAGE_CONTENT_TYPE)
            })
            .collect()
    }

    /// A video of the pool, by chance.
    fn video_ids(rng: &mut ChaCha8Rng, chance: f64) -> Vec<String> {
        if !rng.random_bool(chance) {
            return Vec::new();
        }
        vec![pool_video_id(rng.random_range(0..VIDEO_POOL))]
    }

    /// The final state order `index` is generated in.
    pub fn final_state(&self, index: u64) -> FinalState {
        FinalState::pick(&mut self.rng(index))
    }

    /// Order `index` of the dataset, `0 <= index < total`: its final state, its id and time,
    /// the scene (where, what, who reports), then the history that leads to the final state.
    /// Every step draws from the order's own random stream, in this order.
    pub fn order(&self, index: u64) -> NewOrder {
        let mut rng = self.rng(index);
        let state = FinalState::pick(&mut rng);
        let order_id = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
        let create_time = self.create_time(index, &mut rng);
        let scene = Scene::pick(&mut rng);
        let location = scene.location(&mut rng);
        let media = Media {
            image_urls: Self::image_urls(&mut rng, 3),
            video_media_ids: Self::video_ids(&mut rng, 0.2),
        };
        let cast = Cast::pick(&mut rng, scene.grid);
        let mut history = History {
            generator: self,
            rng: &mut rng,
            time: create_time,
            actions: Vec::new(),
        };
        history.play(state, &cast);
        let actions = history.actions;
        let resident = match self.family {
            Family::Patrol => None,
            Family::Resident => Some(Self::resident_reporter(&mut rng)),
        };
        NewOrder {
            order_id: OrderId::parse(order_id).expect("32 hex digits are an order id"),
            description: scene.template.replace("{}", scene.place),
            urgency: scene.urgency,
            category: Some(scene.category.category_id.to_owned()),
            grid: scene.grid.grid_id.to_owned(),
            location,
            reporter: scene.reporter.to_owned(),
            media,
            create_time,
            actions,
            resident,
        }
    }

    /// When order `index` is reported: in its slot of the span, never after the anchor.
    fn create_time(&self, index: u64, rng: &mut ChaCha8Rng) -> i64 {
        let slot = SPAN_SECONDS as f64 / self.total as f64;
        let offset = (index as f64 * slot + rng.random_range(0.0..slot.max(1.0))) as i64;
        (self.anchor - SPAN_SECONDS + offset).min(self.anchor)
    }
}

/// Where an incident happens, what it is and who reports it.
struct Scene {
    grid: &'static DemoGrid,
    category: &'static DemoCategory,
    place: &'static str,
    address: &'static str,
    template: &'static str,
    urgency: Urgency,
    reporter: &'static str,
}

impl Scene {
    fn pick(rng: &mut ChaCha8Rng) -> Scene {
        let leaves: Vec<&DemoGrid> = GRIDS.iter().filter(|g| !g.places.is_empty()).collect();
        let grid = leaves[rng.random_range(0..leaves.len())];
        let category = &CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let (place, address) = grid.places[rng.random_range(0..grid.places.len())];
        let template = category.descriptions[rng.random_range(0..category.descriptions.len())];
        let urgency = match rng.random_range(0..10) {
            0..=5 => Urgency::Normal,
            6..=8 => Urgency::Important,
            _ => Urgency::Urgent,
        };
        let reporter = grid.members[rng.random_range(0..grid.members.len())];
        Scene {
            grid,
            category,
            place,
            address,
            template,
            urgency,
            reporter,
        }
    }

    /// The place, a little off the grid's centre.
    fn location(&self, rng: &mut ChaCha8Rng) -> Location {
        Location {
            name: self.place.to_owned(),
            address: self.address.to_owned(),
            latitude: round6(self.grid.centre.0 + rng.random_range(-0.002..0.002)),
            longitude: round6(self.grid.centre.1 + rng.random_range(-0.002..0.002)),
        }
    }
}

/// Who handles an order: an admin of its grid, a worker (a member), and another user to transfer
/// to (never the worker).
struct Cast {
    admin: String,
    worker: String,
    other: String,
}

impl Cast {
    fn pick(rng: &mut ChaCha8Rng, grid: &DemoGrid) -> Cast {
        let admin = grid.admins[rng.random_range(0..grid.admins.len())].to_owned();
        let worker = grid.members[rng.random_range(0..grid.members.len())].to_owned();
        let other = USERS[rng.random_range(0..USERS.len())].0.to_owned();
        let other = if other == worker {
            admin.clone()
        } else {
            other
        };
        Cast {
            admin,
            worker,
            other,
        }
    }
}

/// The actions taken on one order, each a little after the one before (never after the anchor).
struct History<'a> {
    generator: &'a Generator,
    rng: &'a mut ChaCha8Rng,
    time: i64,
    actions: Vec<Action>,
}

const ACCEPT_TEXT: &str = "已受理，尽快安排人员到现场核实。";
const START_TEXT: &str = "已到达现场，正在处理。";
const DONE_TEXT: &str = "已处理完毕，现场已恢复正常，附处理后照片。";
const REJECT_TEXT: &str = "经现场核实，该问题不属于本网格职责范围，已告知上报人向相关部门反映。";

fn name_of(userid: &str) -> &'static str {
    USERS.iter().find(|u| u.0 == userid).map_or("", |u| u.1)
}

impl History<'_> {
    /// Takes the actions that lead to `state`.
    fn play(&mut self, state: FinalState, cast: &Cast) {
        let (admin, worker, other) = (&cast.admin, &cast.worker, &cast.other);
        match state {
            FinalState::New => {}
            FinalState::Assigned => {
                if self.rng.random_bool(0.5) {
                    self.accept(admin);
                }
                self.assign(admin, worker);
            }
            FinalState::Transferred => {
                self.accept(admin);
                self.assign(admin, worker);
                self.transfer(worker, other);
            }
            FinalState::InProgress => {
                self.accept(admin);
                self.assign(admin, worker);
                self.push(ActionKind::StartWork, worker, START_TEXT.to_owned(), true);
            }
            FinalState::Done => {
                self.accept(admin);
                if self.rng.random_bool(0.2) {
                    // The admin handles it in person.
                    self.push(ActionKind::StartWork, admin, START_TEXT.to_owned(), true);
                    self.push(ActionKind::Finish, admin, DONE_TEXT.to_owned(), true);
                } else {
                    self.assign(admin, worker);
                    let solver = if self.rng.random_bool(0.25) {
                        self.transfer(worker, other);
                        other
                    } else {
                        worker
                    };
                    self.push(ActionKind::StartWork, solver, START_TEXT.to_owned(), true);
                    self.push(ActionKind::Finish, solver, DONE_TEXT.to_owned(), true);
                }
            }
            FinalState::Rejected => {
                if self.rng.random_bool(0.5) {
                    self.accept(admin);
                }
                self.push(ActionKind::Reject, admin, REJECT_TEXT.to_owned(), false);
            }
        }
    }

    fn accept(&mut self, admin: &str) {
        self.push(ActionKind::Accept, admin, ACCEPT_TEXT.to_owned(), false);
    }

    fn assign(&mut self, admin: &str, worker: &str) {
        let text = format!(
            "请{}前往现场核实处理，处理完毕后拍照反馈。",
            name_of(worker)
        );
        let kind = ActionKind::Assign(vec![worker.to_owned()]);
        self.push(kind, admin, text, false);
    }

    fn transfer(&mut self, from: &str, to: &str) {
        let text = format!("该问题需要{}协同处理，转交跟进。", name_of(to));
        let kind = ActionKind::Transfer(vec![to.to_owned()]);
        self.push(kind, from, text, false);
    }

    /// One action: its photos and video (when `photos`), then its time.
    fn push(&mut self, kind: ActionKind, actor: &str, description: String, photos: bool) {
        let media = if photos {
            Media {
                image_urls: Generator::image_urls(self.rng, 2),
                video_media_ids: Generator::video_ids(self.rng, 0.1),
            }
        } else {
            Media::default()
        };
        self.time = (self.time + self.rng.random_range(300..=36 * 3600))
            .min(self.generator.anchor.max(self.time));
        self.actions.push(Action {
            kind,
            actor: actor.to_owned(),
            description,
            media,
            time: self.time,
        });
    }
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use patrol_domain::{CategoryId, CorpId, GridId, ProcessType, UserId};
    use std::collections::HashSet;

    #[test]
    fn every_fixed_id_of_the_demo_is_well_formed() {
        CorpId::parse(DEMO_CORPID).unwrap();
        for (userid, _) in USERS {
            UserId::parse(*userid).unwrap();
        }
        for grid in GRIDS {
            GridId::parse(grid.grid_id).unwrap();
        }
        for (id, _) in GROUPS {
            CategoryId::parse(*id).unwrap();
        }
        for category in CATEGORIES {
            CategoryId::parse(category.category_id).unwrap();
        }
        for (agentid, ..) in APPS {
            AgentId::new(*agentid).unwrap();
        }
    }

    #[test]
    fn generation_is_deterministic_and_in_create_order() {
        let a = Generator::new(7, 1000, 1_800_000_000);
        let b = Generator::new(7, 1000, 1_800_000_000);
        let orders: Vec<NewOrder> = (0..1000).map(|i| a.order(i)).collect();
        assert_eq!(orders[500], b.order(500));
        assert!(
            orders
                .windows(2)
                .all(|w| w[0].create_time <= w[1].create_time)
        );
        assert!(orders.iter().all(
            |o| o.create_time >= 1_800_000_000 - SPAN_SECONDS && o.create_time <= 1_800_000_000
        ));
        let ids: HashSet<&str> = orders.iter().map(|o| o.order_id.as_str()).collect();
        assert_eq!(ids.len(), 1000);
        assert_ne!(Generator::new(8, 1000, 1_800_000_000).order(0), orders[0]);
    }

    #[test]
    fn the_demo_dataset_has_every_urgency_step_and_state() {
        let generator = Generator::new(DEMO_SEED, DEMO_ORDERS, 1_800_000_000);
        let states: HashSet<_> = (0..DEMO_ORDERS)
            .map(|i| format!("{:?}", generator.final_state(i)))
            .collect();
        assert_eq!(states.len(), 6, "{states:?}");
        let orders: Vec<NewOrder> = (0..DEMO_ORDERS).map(|i| generator.order(i)).collect();
        let urgencies: HashSet<i64> = orders.iter().map(|o| o.urgency as i64).collect();
        assert_eq!(urgencies.len(), 3);
        let mut types: HashSet<ProcessType> = orders
            .iter()
            .flat_map(|o| o.actions.iter().map(|a| a.kind.process_type()))
            .collect();
        types.insert(ProcessType::Create);
        assert_eq!(types.len(), 7);
        assert!(orders.iter().any(|o| !o.media.video_media_ids.is_empty()));
        assert!(orders.iter().any(|o| !o.media.image_urls.is_empty()));
    }
}
