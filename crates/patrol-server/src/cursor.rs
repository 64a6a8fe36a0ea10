//! The cursors of patrol's lists: `get_order_list`'s and the administration API's list of a
//! corp's orders (`GET /admin/v1/corps/{corpid}/orders`). A cursor is a keyset position, signed
//! so that it is valid only for the list, corp, app and filters it was issued for.
//!
//! Layout before base64url (no padding): version (1 byte), kind (1 byte: 0 create-ordered,
//! 1 modify-ordered), the position (create-ordered: create_time and sequence, 8 bytes each;
//! modify-ordered: the modification sequence, 8 bytes), then the first 16 bytes of a keyed
//! BLAKE3 over the corp, app, both filters and everything before it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use patrol_domain::Position;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;

/// What a cursor is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// Whose walk: a patrol cursor is refused by `resident/get_order_list`, and back.
    pub family: patrol_domain::Family,
    pub corp_key: i64,
    /// The app: its agentid (its backend's internal key for cursors issued before).
    pub app_key: i64,
    pub begin_create_time: i64,
    pub begin_modify_time: i64,
}

/// What an administration API cursor is bound to: the corp (its internal key, so a corp deleted
/// and created again under the same corpid refuses its predecessor's cursors) and the list's
/// filters, written canonically by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminBinding<'a> {
    pub corp_key: i64,
    pub filters: &'a str,
}

/// Whose cursor: the MAC of each starts with its own label, so one is never valid as the other.
#[derive(Clone, Copy)]
enum Scope<'a> {
    WeCom(&'a Binding),
    Admin(&'a AdminBinding<'a>),
}

/// Signs and checks cursors with the database's cursor secret.
/// Its `Debug` shows no key.
#[derive(Clone)]
pub struct CursorCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CursorCodec").finish_non_exhaustive()
    }
}

impl CursorCodec {
    pub fn new(key: [u8; 32]) -> CursorCodec {
        CursorCodec { key }
    }

    fn mac(&self, scope: Scope<'_>, payload: &[u8]) -> [u8; MAC_LEN] {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        match scope {
            Scope::WeCom(binding) => {
                hasher.update(b"patrol cursor");
                for value in [
                    binding.corp_key,
                    binding.app_key,
                    binding.begin_create_time,
                    binding.begin_modify_time,
                ] {
                    hasher.update(&value.to_be_bytes());
                }
                // Patrol cursors sign what they signed before there were two families.
                if binding.family == patrol_domain::Family::Resident {
                    hasher.update(b"resident");
                }
            }
            Scope::Admin(binding) => {
                hasher.update(b"patrol admin cursor");
                hasher.update(&binding.corp_key.to_be_bytes());
                hasher.update(&(binding.filters.len() as u64).to_be_bytes());
                hasher.update(binding.filters.as_bytes());
            }
        }
        hasher.update(payload);
        let mut mac = [0; MAC_LEN];
        mac.copy_from_slice(&hasher.finalize().as_bytes()[..MAC_LEN]);
        mac
    }

    pub fn encode(&self, binding: &Binding, position: Position) -> String {
        self.seal(Scope::WeCom(binding), position)
    }

    /// The position in a cursor, if this server issued it for exactly this binding.
    pub fn decode(&self, binding: &Binding, cursor: &str) -> Option<Position> {
        let position = self.open(Scope::WeCom(binding), cursor)?;
        // A modify-ordered walk is one with a modify filter, and only that.
        let modify_ordered = binding.begin_modify_time != 0;
        (matches!(position, Position::Modified { .. }) == modify_ordered).then_some(position)
    }

    /// A cursor of the administration API's list of a corp's orders (a create-ordered walk).
    pub fn encode_admin(&self, binding: &AdminBinding<'_>, position: Position) -> String {
        self.seal(Scope::Admin(binding), position)
    }

    /// The position in an administration API cursor, if this server issued it for exactly this
    /// corp and these filters.
    pub fn decode_admin(&self, binding: &AdminBinding<'_>, cursor: &str) -> Option<Position> {
        self.open(Scope::Admin(binding), cursor)
            .filter(|position| matches!(position, Position::Created { .. }))
    }

    fn seal(&self, scope: Scope<'_>, position: Position) -> String {
        let mut bytes = vec![VERSION];
        match position {
            Position::Created { create_time, seq } => {
                bytes.push(0);
                bytes.extend_from_slice(&create_time.to_be_bytes());
                bytes.extend_from_slice(&seq.to_be_bytes());
            }
            Position::Modified { mod_seq } => {
                bytes.push(1);
                bytes.extend_from_slice(&mod_seq.to_be_bytes());
            }
        }
        let mac = self.mac(scope, &bytes);
        bytes.extend_from_slice(&mac);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn open(&self, scope: Scope<'_>, cursor: &str) -> Option<Position> {
        if cursor.len() > 128 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        if bytes.len() < 2 + MAC_LEN {
            return None;
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        let expected = self.mac(scope, payload);
        if !constant_time_eq::constant_time_eq(&expected, mac) || payload[0] != VERSION {
            return None;
        }
        let number = |at: usize| -> Option<i64> {
            Some(i64::from_be_bytes(
                payload.get(at..at + 8)?.try_into().ok()?,
            ))
        };
        match (payload[1], payload.len()) {
            (0, 18) => Some(Position::Created {
                create_time: number(2)?,
                seq: number(10)?,
            }),
            (1, 10) => Some(Position::Modified {
                mod_seq: number(2)?,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> Binding {
        Binding {
            family: patrol_domain::Family::Patrol,
            corp_key: 1,
            app_key: 2,
            begin_create_time: 0,
            begin_modify_time: 0,
        }
    }

    #[test]
    fn a_cursor_round_trips_and_uses_url_safe_characters() {
        let codec = CursorCodec::new([7; 32]);
        let position = Position::Created {
            create_time: 1_700_000_000,
            seq: 42,
        };
        let cursor = codec.encode(&binding(), position);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(codec.decode(&binding(), &cursor), Some(position));
    }

    #[test]
    fn a_cursor_is_bound_to_corp_app_filters_and_key() {
        let codec = CursorCodec::new([7; 32]);
        let cursor = codec.encode(
            &binding(),
            Position::Created {
                create_time: 5,
                seq: 6,
            },
        );
        for other in [
            Binding {
                family: patrol_domain::Family::Resident,
                ..binding()
            },
            Binding {
                corp_key: 9,
                ..binding()
            },
            Binding {
                app_key: 9,
                ..binding()
            },
            Binding {
                begin_create_time: 9,
                ..binding()
            },
        ] {
            assert_eq!(codec.decode(&other, &cursor), None);
        }
        assert_eq!(CursorCodec::new([8; 32]).decode(&binding(), &cursor), None);
    }

    #[test]
    fn an_admin_cursor_is_bound_to_corp_and_filters_and_never_a_wecom_one() {
        let codec = CursorCodec::new([7; 32]);
        let position = Position::Created {
            create_time: 5,
            seq: 6,
        };
        let admin = AdminBinding {
            corp_key: 1,
            filters: "state=open",
        };
        let cursor = codec.encode_admin(&admin, position);
        assert_eq!(codec.decode_admin(&admin, &cursor), Some(position));
        for other in [
            AdminBinding {
                corp_key: 2,
                ..admin
            },
            AdminBinding {
                filters: "state=closed",
                ..admin
            },
        ] {
            assert_eq!(codec.decode_admin(&other, &cursor), None);
        }
        assert_eq!(codec.decode(&binding(), &cursor), None);
        let wecom = codec.encode(&binding(), position);
        assert_eq!(
            codec.decode_admin(
                &AdminBinding {
                    corp_key: 1,
                    filters: ""
                },
                &wecom
            ),
            None
        );
    }

    #[test]
    fn edited_and_garbage_cursors_are_refused() {
        let codec = CursorCodec::new([7; 32]);
        let cursor = codec.encode(
            &binding(),
            Position::Created {
                create_time: 5,
                seq: 6,
            },
        );
        let mut edited = cursor.clone().into_bytes();
        edited[5] = if edited[5] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        for bad in [
            edited.as_str(),
            "",
            "abc",
            "!!!!",
            &"A".repeat(500),
            &cursor[..cursor.len() - 1],
        ] {
            assert_eq!(codec.decode(&binding(), bad), None, "{bad:?}");
        }
    }
}
