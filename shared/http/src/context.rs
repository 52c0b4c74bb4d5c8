use std::sync::Arc;

use smscrm_domain::ports::{Clock, Table};
use smscrm_store::{ApiKeys, AttributeNames, Contacts, Templates, Tenants};

/// What every route needs, built once per process (per cold start on Lambda).
#[derive(Clone)]
pub struct AppContext {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub tenants: Tenants,
    pub api_keys: ApiKeys,
    pub contacts: Contacts,
    pub templates: Templates,
    pub attribute_names: AttributeNames,
}

impl AppContext {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Self {
        Self {
            tenants: Tenants::new(table.clone()),
            api_keys: ApiKeys::new(table.clone()),
            contacts: Contacts::new(table.clone()),
            templates: Templates::new(table.clone()),
            attribute_names: AttributeNames::new(table.clone()),
            table,
            clock,
        }
    }
}
