//! SessionRegistry: the users of the agent, their login sessions, and the brute-force
//! guard of the login endpoint. It owns the users (replaced whole on SIGHUP), the live
//! sessions (idle expiry, a cap with the least recently used evicted) and the recent
//! failed logins of each client address. Password checks run on a blocking thread and
//! the slow-down of a guessing client is a timer inside the reply, so neither holds
//! this actor nor an HTTP worker: other logins and requests go on meanwhile.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rand::RngCore;

use crate::notification_log::{NotificationLog, Notify, NotifyRefusal};
use crate::users::{self, Role, Users};

/// The tunables of sessions and of the brute-force guard.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    /// How long a session lives after its login, however much it is used: a stolen
    /// session id is not good forever.
    pub lifetime: Duration,
    pub max_sessions: usize,
    /// Live sessions of one user at most: that user's oldest is evicted beyond it,
    /// never another user's (one account cannot log everybody else out).
    pub max_user_sessions: usize,
    /// Failed logins per address and minute answered without delay.
    pub free_failures: u32,
    /// Failed logins per address within `lockout_window` that lock it out.
    pub lockout_failures: u32,
    pub lockout_window: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle_timeout: Duration::from_secs(3600),
            lifetime: Duration::from_secs(12 * 3600),
            max_sessions: 100,
            max_user_sessions: 10,
            free_failures: 5,
            lockout_failures: 20,
            lockout_window: Duration::from_secs(600),
        }
    }
}

const DELAY_STEP: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(10);
const FREE_WINDOW: Duration = Duration::from_secs(60);
/// Bounds the memory an attacker rotating addresses can make us spend.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

struct Session {
    username: String,
    created: Instant,
    last_used: Instant,
}

impl Session {
    fn live(&self, settings: &SessionSettings) -> bool {
        self.last_used.elapsed() < settings.idle_timeout
            && self.created.elapsed() < settings.lifetime
    }
}

pub struct SessionRegistry {
    users: Users,
    settings: SessionSettings,
    sessions: HashMap<String, Session>,
    failures: HashMap<IpAddr, VecDeque<Instant>>,
    in_flight: HashMap<IpAddr, u32>,
    /// Password checks running now, all addresses together.
    verifying: usize,
    /// The bound of `verifying`: bcrypt is the agent's most expensive work, and
    /// logins from many addresses must not take every CPU.
    max_verifying: usize,
    notifications: Addr<NotificationLog>,
    log: slog::Logger,
}

impl SessionRegistry {
    pub fn new(
        users: Users,
        settings: SessionSettings,
        notifications: Addr<NotificationLog>,
        log: slog::Logger,
    ) -> SessionRegistry {
        SessionRegistry {
            users,
            settings,
            sessions: HashMap::new(),
            failures: HashMap::new(),
            in_flight: HashMap::new(),
            verifying: 0,
            max_verifying: 2 * std::thread::available_parallelism().map_or(1, |n| n.get()),
            notifications,
            log,
        }
    }

    fn recent_failures(&self, client: &IpAddr, within: Duration) -> u32 {
        let now = Instant::now();
        self.failures.get(client).map_or(0, |times| {
            times.iter().filter(|t| now - **t < within).count() as u32
        })
    }

    fn locked_out(&self, client: &IpAddr) -> Option<Duration> {
        let failures = self.recent_failures(client, self.settings.lockout_window);
        let pending = self.in_flight.get(client).copied().unwrap_or(0);
        if failures + pending < self.settings.lockout_failures {
            return None;
        }
        // The address is free again when the oldest failure still counted leaves the window.
        let oldest = self.failures.get(client)?.front()?;
        Some(
            self.settings
                .lockout_window
                .saturating_sub(oldest.elapsed()),
        )
    }

    /// Records a failure and returns how long to hold the answer.
    fn record_failure(&mut self, client: IpAddr) -> Duration {
        if self.failures.len() >= MAX_TRACKED_ADDRESSES && !self.failures.contains_key(&client) {
            self.purge();
            // Still full of live entries: forget the address that failed least recently.
            if self.failures.len() >= MAX_TRACKED_ADDRESSES {
                let stalest = self
                    .failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(address, _)| *address);
                if let Some(address) = stalest {
                    self.failures.remove(&address);
                }
            }
        }
        let times = self.failures.entry(client).or_default();
        times.push_back(Instant::now());
        let keep = self.settings.lockout_failures.max(1) as usize;
        while times.len() > keep {
            times.pop_front();
        }
        let last_minute = self.recent_failures(&client, FREE_WINDOW);
        let beyond = last_minute.saturating_sub(self.settings.free_failures);
        (DELAY_STEP * beyond).min(MAX_DELAY)
    }

    fn create_session(&mut self, username: &str) -> String {
        // The user's own sessions first: beyond the per-user cap, their oldest goes.
        loop {
            let mine = self.sessions.iter().filter(|(_, s)| s.username == username);
            if mine.clone().count() < self.settings.max_user_sessions.max(1) {
                break;
            }
            let Some(oldest) = mine
                .min_by_key(|(_, s)| s.created)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            self.sessions.remove(&oldest);
            slog::info!(self.log, "per-user session cap reached: evicted the user's oldest session";
                "user" => username);
        }
        while self.sessions.len() >= self.settings.max_sessions.max(1) {
            let Some(oldest) = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            if let Some(evicted) = self.sessions.remove(&oldest) {
                slog::info!(self.log, "session cap reached: evicted the least recently used session";
                    "user" => evicted.username);
            }
        }
        let id = new_session_id();
        self.sessions.insert(
            id.clone(),
            Session {
                username: username.to_string(),
                created: Instant::now(),
                last_used: Instant::now(),
            },
        );
        id
    }

    fn purge(&mut self) {
        let settings = &self.settings;
        self.sessions.retain(|_, s| s.live(settings));
        let window = self.settings.lockout_window.max(FREE_WINDOW);
        self.failures.retain(|_, times| {
            times.retain(|t| t.elapsed() < window);
            !times.is_empty()
        });
    }

    fn done_in_flight(&mut self, client: &IpAddr) {
        if let Some(n) = self.in_flight.get_mut(client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(client);
            }
        }
    }

    /// Writes to the audit trail and waits until it is on disk. A failing store is
    /// logged but does not lock DBAs out of their agent.
    fn notify<M>(&self, msg: M) -> impl std::future::Future<Output = ()>
    where
        M: Message<Result = Result<(), crate::Error>> + Send + 'static,
        NotificationLog: Handler<M>,
    {
        let sent = self.notifications.send(msg);
        let log = self.log.clone();
        async move {
            match sent.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => slog::error!(log, "cannot write notification"; "error" => %err),
                Err(err) => slog::error!(log, "notification log did not answer"; "error" => %err),
            }
        }
    }
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Actor for SessionRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(Duration::from_secs(30), |act, _| act.purge());
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    InvalidCredentials,
    LockedOut {
        retry_after: Duration,
    },
    /// Too many password checks are running (all addresses together).
    Busy,
}

/// What the brute-force guard counts by: the address, except that IPv6 clients are
/// grouped by /64 (one host commonly owns a whole /64 and may pick any address in
/// it), and an IPv4-mapped IPv6 address is its IPv4 address.
pub fn guard_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
        },
    }
}

/// Check a user's password and open a session; answers the session id.
#[derive(Message)]
#[rtype(result = "Result<String, LoginError>")]
pub struct Login {
    pub username: String,
    pub password: String,
    pub client: IpAddr,
}

impl Handler<Login> for SessionRegistry {
    type Result = ResponseActFuture<Self, Result<String, LoginError>>;

    fn handle(&mut self, msg: Login, _: &mut Self::Context) -> Self::Result {
        let address = msg.client;
        let client = guard_key(address);
        if let Some(retry_after) = self.locked_out(&client) {
            slog::warn!(self.log, "login refused: too many failed logins from this address";
                "client" => %address, "user" => &msg.username);
            return Box::pin(fut::ready(Err(LoginError::LockedOut { retry_after })));
        }
        if self.verifying >= self.max_verifying {
            slog::warn!(self.log, "login refused: too many password checks running";
                "client" => %address, "running" => self.verifying);
            return Box::pin(fut::ready(Err(LoginError::Busy)));
        }
        self.verifying += 1;
        *self.in_flight.entry(client).or_default() += 1;
        let hash = self.users.get(&msg.username).cloned();
        let Login {
            username, password, ..
        } = msg;
        let user = username.clone();
        let check = async move {
            tokio::task::spawn_blocking(move || match hash {
                Some(hash) => users::verify(&user, &password, &hash),
                None => {
                    users::verify_dummy(&password);
                    false
                }
            })
            .await
            .unwrap_or(false)
        };
        Box::pin(check.into_actor(self).then(move |ok, act, _| {
            act.done_in_flight(&client);
            act.verifying -= 1;
            if ok {
                let id = act.create_session(&username);
                slog::info!(act.log, "login"; "user" => &username, "client" => %address);
                let written = act.notify(Notify::new(&username, "Login"));
                Box::pin(async move {
                    written.await;
                    Ok(id)
                }) as std::pin::Pin<Box<dyn std::future::Future<Output = _>>>
            } else {
                let delay = act.record_failure(client);
                slog::warn!(act.log, "failed login"; "user" => &username, "client" => %address,
                    "answer_delay_ms" => delay.as_millis() as u64);
                let written = act.notify(NotifyRefusal::failed_login(&username, address));
                Box::pin(async move {
                    written.await;
                    tokio::time::sleep(delay).await;
                    Err(LoginError::InvalidCredentials)
                })
            }
            .into_actor(act)
        }))
    }
}

/// A request presents the agent key: refused while its address is locked out by
/// failed logins or wrong keys (they count together), whatever the key.
#[derive(Message)]
#[rtype(result = "Result<(), LoginError>")]
pub struct KeyAttempt {
    pub client: IpAddr,
}

impl Handler<KeyAttempt> for SessionRegistry {
    type Result = Result<(), LoginError>;

    fn handle(&mut self, msg: KeyAttempt, _: &mut Self::Context) -> Self::Result {
        match self.locked_out(&guard_key(msg.client)) {
            Some(retry_after) => {
                slog::warn!(self.log, "key refused: too many failures from this address";
                    "client" => %msg.client);
                Err(LoginError::LockedOut { retry_after })
            }
            None => Ok(()),
        }
    }
}

/// The agent key a request presented was wrong: counted against its address as a
/// failed login; answers how long to hold the answer. The HTTP layer writes the
/// audit row (`NotifyRefusal::wrong_key`, counted per address and minute).
#[derive(Message)]
#[rtype(result = "Duration")]
pub struct KeyFailed {
    pub client: IpAddr,
}

impl Handler<KeyFailed> for SessionRegistry {
    type Result = actix::MessageResult<KeyFailed>;

    fn handle(&mut self, msg: KeyFailed, _: &mut Self::Context) -> Self::Result {
        let delay = self.record_failure(guard_key(msg.client));
        slog::warn!(self.log, "wrong agent key"; "client" => %msg.client,
            "answer_delay_ms" => delay.as_millis() as u64);
        actix::MessageResult(delay)
    }
}

/// Who owns this session id, if it is live. Using a session keeps it alive.
#[derive(Message)]
#[rtype(result = "Option<SessionUser>")]
pub struct CheckSession {
    pub id: String,
}

/// The user behind a live session, with the role the users file gives them now
/// (a reload that demotes a user takes effect at their next request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub username: String,
    pub role: Role,
}

impl Handler<CheckSession> for SessionRegistry {
    type Result = Option<SessionUser>;

    fn handle(&mut self, msg: CheckSession, _: &mut Self::Context) -> Self::Result {
        let session = self.sessions.get_mut(&msg.id)?;
        if !session.live(&self.settings) {
            self.sessions.remove(&msg.id);
            return None;
        }
        session.last_used = Instant::now();
        let role = self.users.role(&session.username)?;
        Some(SessionUser {
            username: session.username.clone(),
            role,
        })
    }
}

/// Close a session; answers the user name it belonged to, if it was live.
#[derive(Message)]
#[rtype(result = "Option<String>")]
pub struct Logout {
    pub id: String,
}

impl Handler<Logout> for SessionRegistry {
    type Result = ResponseFuture<Option<String>>;

    fn handle(&mut self, msg: Logout, _: &mut Self::Context) -> Self::Result {
        let Some(session) = self.sessions.remove(&msg.id) else {
            return Box::pin(async { None });
        };
        if !session.live(&self.settings) {
            return Box::pin(async { None });
        }
        slog::info!(self.log, "logout"; "user" => &session.username);
        let written = self.notify(Notify::new(&session.username, "Logout"));
        Box::pin(async move {
            written.await;
            Some(session.username)
        })
    }
}

/// SIGHUP: the users file was read again. Sessions of removed users end.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReplaceUsers {
    pub users: Users,
    pub settings: SessionSettings,
}

impl Handler<ReplaceUsers> for SessionRegistry {
    type Result = ();

    fn handle(&mut self, msg: ReplaceUsers, _: &mut Self::Context) {
        let users = msg.users;
        let before = self.sessions.len();
        self.sessions
            .retain(|_, s| users.get(&s.username).is_some());
        let ended = before - self.sessions.len();
        slog::info!(self.log, "users reloaded"; "users" => users.len(), "sessions_ended" => ended);
        self.users = users;
        self.settings = msg.settings;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_groups_ipv6_by_64_and_maps_ipv4() {
        let key = |s: &str| guard_key(s.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn session_ids_are_64_lowercase_hex_and_unique() {
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }
}
