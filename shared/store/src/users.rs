//! The people of each tenant. An email is one user per tenant (the person may belong to
//! several tenants): a uniqueness item per tenant, and a membership item under the email, which
//! is how a login request finds the person's tenants.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::ports::{Condition, Query, StoreError, Table, TransactOp, Update, table};
use smscrm_domain::user::{Email, Role, User};
use smscrm_domain::{TenantId, UserId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

/// Why a change to a user was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The tenant's last owner cannot stop being one, or go.
    LastOwner,
    /// The user changed (or went) since it was read: read it again.
    Changed,
}

fn role_name(role: Role) -> serde_json::Value {
    serde_json::to_value(role).unwrap_or_default()
}

#[derive(Clone)]
pub struct Users {
    table: Arc<dyn Table>,
}

/// A tenant a person belongs to, as their email's membership items say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub user_id: UserId,
}

impl Users {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Adds the user; a conflict if the email already belongs to one in the tenant.
    pub async fn create(&self, user: &User) -> Result<(), RepoError> {
        let absent = || Some(Condition::AttrNotExists(table::PK.into()));
        let membership = Membership {
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
        };
        let mut ops = vec![
            TransactOp::Put {
                item: to_item(user, &keys::user(&user.tenant_id, &user.id), "user")?,
                condition: absent(),
            },
            TransactOp::Put {
                item: to_item(
                    &json!({ "user_id": user.id }),
                    &keys::user_email(&user.tenant_id, &user.email),
                    "user_email",
                )?,
                condition: absent(),
            },
            TransactOp::Put {
                item: to_item(
                    &membership,
                    &keys::membership(&user.email, &user.tenant_id),
                    "membership",
                )?,
                condition: None,
            },
        ];
        if user.role == Role::Owner {
            ops.push(TransactOp::Update {
                key: keys::owners(&user.tenant_id),
                update: Update::new().add("owners", 1),
                condition: None,
            });
        }
        match self.table.transact(ops).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => Err(
                RepoError::Conflict(format!("{} is already a user of this tenant", user.email)),
            ),
            Err(other) => Err(other.into()),
        }
    }

    /// Gives `user` (as read) the role `role`; the owners count moves with it, and the last
    /// owner stays one.
    pub async fn set_role(
        &self,
        user: &User,
        role: Role,
    ) -> Result<Result<User, Refused>, RepoError> {
        let mut changed = user.clone();
        changed.role = role;
        let mut ops = vec![TransactOp::Put {
            item: to_item(&changed, &keys::user(&user.tenant_id, &user.id), "user")?,
            condition: Some(Condition::eq("role", role_name(user.role))),
        }];
        ops.extend(owners_move(user, Some(role)));
        Ok(self.run(ops).await?.map(|()| changed))
    }

    /// Removes `user` (as read) from its tenant: it can no longer sign in there.
    pub async fn remove(&self, user: &User) -> Result<Result<(), Refused>, RepoError> {
        let mut ops = vec![
            TransactOp::Delete {
                key: keys::user(&user.tenant_id, &user.id),
                condition: Some(Condition::eq("role", role_name(user.role))),
            },
            TransactOp::Delete {
                key: keys::user_email(&user.tenant_id, &user.email),
                condition: None,
            },
            TransactOp::Delete {
                key: keys::membership(&user.email, &user.tenant_id),
                condition: None,
            },
        ];
        ops.extend(owners_move(user, None));
        self.run(ops).await
    }

    /// Runs a change whose first operation guards the user and whose last (if it touches the
    /// owners count) guards the last owner.
    async fn run(&self, ops: Vec<TransactOp>) -> Result<Result<(), Refused>, RepoError> {
        let owners_index = ops.len() - 1;
        let guards_owners = matches!(
            ops.last(),
            Some(TransactOp::Update {
                condition: Some(_),
                ..
            })
        );
        match crate::conflicts::transact(self.table.as_ref(), ops, "users").await? {
            Ok(()) => Ok(Ok(())),
            Err(failed) if guards_owners && failed.contains(&owners_index) => {
                Ok(Err(Refused::LastOwner))
            }
            Err(_) => Ok(Err(Refused::Changed)),
        }
    }

    pub async fn get(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>, RepoError> {
        self.table
            .get(&keys::user(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The tenants the person with this email belongs to.
    pub async fn memberships(&self, email: &Email) -> Result<Vec<Membership>, RepoError> {
        let page = self
            .table
            .query(&Query::partition(keys::memberships_partition(email)).limit(100))
            .await?;
        page.items.into_iter().map(from_item).collect()
    }

    /// The tenant's users, in the order they were added.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<User>, RepoError> {
        let mut users = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::USER_PREFIX)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                users.push(from_item(item)?);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(users),
            }
        }
    }

    pub async fn record_login(
        &self,
        tenant: &TenantId,
        id: &UserId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), RepoError> {
        let at = serde_json::to_value(at).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        self.table
            .update(
                &keys::user(tenant, id),
                Update::new().set("last_login_at", at),
                Some(Condition::ItemExists),
            )
            .await?;
        Ok(())
    }
}

/// The owners count's move when `user` becomes `role` (`None`: goes): one fewer owner only
/// while more than one is left.
fn owners_move(user: &User, role: Option<Role>) -> Option<TransactOp> {
    let was = user.role == Role::Owner;
    let will = role == Some(Role::Owner);
    let key = keys::owners(&user.tenant_id);
    match (was, will) {
        (true, false) => Some(TransactOp::Update {
            key,
            update: Update::new().add("owners", -1),
            condition: Some(Condition::gt("owners", 1)),
        }),
        (false, true) => Some(TransactOp::Update {
            key,
            update: Update::new().add("owners", 1),
            condition: None,
        }),
        _ => None,
    }
}
