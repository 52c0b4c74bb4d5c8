//! Renders the port's typed conditions, updates and key conditions into DynamoDB expressions.
//!
//! Every attribute name goes through a `#nN` placeholder and every value through a `:vN`
//! placeholder: names such as `ttl` or `status` are reserved words in DynamoDB, and values
//! never need escaping. One builder serves one request, because a request has one pair of
//! placeholder maps shared by all its expressions.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use smscrm_domain::ports::table::{
    CmpOp, Condition, Index, PK, SortKeyCondition, StoreError, TTL, Update,
};

#[derive(Debug, Default)]
pub(crate) struct ExprBuilder {
    /// Attribute name -> its placeholder, so a name used twice gets one placeholder
    /// (DynamoDB rejects placeholders that no expression uses, never repeated uses).
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

/// The placeholder maps for the request, `None` when empty: DynamoDB rejects empty maps.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Placeholders {
    pub names: Option<HashMap<String, String>>,
    pub values: Option<HashMap<String, AttributeValue>>,
}

impl ExprBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn name(&mut self, attr: &str) -> String {
        let next = self.names.len();
        self.names
            .entry(attr.to_owned())
            .or_insert_with(|| format!("#n{next}"))
            .clone()
    }

    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn json(&mut self, value: &Value) -> Result<String, StoreError> {
        let value = serde_dynamo::to_attribute_value(value).map_err(StoreError::backend)?;
        Ok(self.value(value))
    }

    fn string(&mut self, value: &str) -> String {
        self.value(AttributeValue::S(value.to_owned()))
    }

    /// DynamoDB has no boolean literals; these tautologies on the key stand in for them
    /// (an empty `And` is true, an empty `Or` false, as in [`Condition::matches`]).
    fn always(&mut self, truth: bool) -> String {
        let pk = self.name(PK);
        if truth {
            format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
        } else {
            format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
        }
    }

    pub fn condition(&mut self, condition: &Condition) -> Result<String, StoreError> {
        Ok(match condition {
            // Every stored item has a `pk`, so its presence is the item's presence.
            Condition::ItemExists => format!("attribute_exists({})", self.name(PK)),
            Condition::ItemNotExists => format!("attribute_not_exists({})", self.name(PK)),
            Condition::AttrExists(attr) => format!("attribute_exists({})", self.name(attr)),
            Condition::AttrNotExists(attr) => {
                format!("attribute_not_exists({})", self.name(attr))
            }
            Condition::Compare(attr, op, value) => self.compare(attr, *op, value)?,
            Condition::And(all) => self.join(all, " AND ", true)?,
            Condition::Or(any) => self.join(any, " OR ", false)?,
            Condition::Not(inner) => format!("(NOT {})", self.condition(inner)?),
        })
    }

    fn join(&mut self, parts: &[Condition], op: &str, empty: bool) -> Result<String, StoreError> {
        if parts.is_empty() {
            return Ok(self.always(empty));
        }
        let rendered = parts
            .iter()
            .map(|c| self.condition(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", rendered.join(op)))
    }

    fn compare(&mut self, attr: &str, op: CmpOp, value: &Value) -> Result<String, StoreError> {
        let orderable = matches!(value, Value::Number(_) | Value::String(_));
        let symbol = match op {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        };
        if op != CmpOp::Eq && op != CmpOp::Ne && !orderable {
            // The port says ordering a bool, null, list or map is false; DynamoDB would reject
            // the request instead, so render the answer rather than the comparison.
            return Ok(self.always(false));
        }
        let name = self.name(attr);
        let placeholder = self.json(value)?;
        if op == CmpOp::Eq {
            return Ok(format!("{name} = {placeholder}"));
        }
        // DynamoDB's `<>` is true for a missing attribute or one of another type; the port says
        // both are false, so require the attribute to have the value's type. For orderings the
        // guard changes nothing on DynamoDB (they are false across types) but keeps moto, which
        // compares across types in Python and fails with a 500, on the documented answer.
        let kind = self.string(dynamo_type(value));
        Ok(format!(
            "(attribute_type({name}, {kind}) AND {name} {symbol} {placeholder})"
        ))
    }

    /// `SET a = :v, ... ADD c :n, ... REMOVE r, ...`; call [`Update::validate`] first.
    pub fn update(&mut self, update: &Update) -> Result<String, StoreError> {
        let mut clauses = Vec::new();
        if !update.set.is_empty() {
            let mut sets = Vec::with_capacity(update.set.len());
            for (attr, value) in &update.set {
                sets.push(format!("{} = {}", self.name(attr), self.json(value)?));
            }
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.add.is_empty() {
            let adds: Vec<String> = update
                .add
                .iter()
                .map(|(attr, by)| {
                    let name = self.name(attr);
                    format!("{name} {}", self.value(AttributeValue::N(by.to_string())))
                })
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|a| self.name(a)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        Ok(clauses.join(" "))
    }

    /// The KeyConditionExpression of a query; the sort condition must be [`normalize_sort`]ed.
    pub fn key_condition(
        &mut self,
        index: Index,
        partition: &str,
        sort: Option<&SortKeyCondition>,
    ) -> String {
        let (pk_attr, sk_attr) = index.key_attrs();
        let pk = self.name(pk_attr);
        let partition = self.string(partition);
        let mut expr = format!("{pk} = {partition}");
        if let Some(sort) = sort {
            let sk = self.name(sk_attr);
            let rendered = match sort {
                SortKeyCondition::Eq(v) => format!("{sk} = {}", self.string(v)),
                SortKeyCondition::Prefix(v) => format!("begins_with({sk}, {})", self.string(v)),
                SortKeyCondition::Between(lo, hi) => {
                    let lo = self.string(lo);
                    format!("{sk} BETWEEN {lo} AND {}", self.string(hi))
                }
                SortKeyCondition::Lt(v) => format!("{sk} < {}", self.string(v)),
                SortKeyCondition::Le(v) => format!("{sk} <= {}", self.string(v)),
                SortKeyCondition::Gt(v) => format!("{sk} > {}", self.string(v)),
                SortKeyCondition::Ge(v) => format!("{sk} >= {}", self.string(v)),
            };
            expr.push_str(" AND ");
            expr.push_str(&rendered);
        }
        expr
    }

    /// The query filter hiding expired items. DynamoDB deletes expired items only eventually,
    /// so the adapter hides them itself, as the embedded one does. Like
    /// [`smscrm_domain::ports::table::is_expired`], only a numeric `ttl` can expire an item.
    pub fn not_expired(&mut self, now_epoch: i64) -> String {
        let ttl = self.name(TTL);
        let number = self.string("N");
        let now = self.value(AttributeValue::N(now_epoch.to_string()));
        format!(
            "(attribute_not_exists({ttl}) OR NOT attribute_type({ttl}, {number}) OR {ttl} > {now})"
        )
    }

    pub fn finish(self) -> Placeholders {
        let names: HashMap<String, String> = self
            .names
            .into_iter()
            .map(|(attr, placeholder)| (placeholder, attr))
            .collect();
        Placeholders {
            names: (!names.is_empty()).then_some(names),
            values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

/// DynamoDB's type descriptor of the attribute a JSON value is stored as (by serde_dynamo).
fn dynamo_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOL",
        Value::Number(_) => "N",
        Value::String(_) => "S",
        Value::Array(_) => "L",
        Value::Object(_) => "M",
    }
}

/// What a sort-key condition means once empty strings are accounted for: DynamoDB rejects an
/// empty string as a key value, but the port allows it (every sort key is non-empty, so "" is
/// below them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SortPlan {
    /// Query with this condition (`None`: the whole partition).
    Query(Option<SortKeyCondition>),
    /// No sort key can match: skip the call.
    Nothing,
}

pub(crate) fn normalize_sort(sort: Option<&SortKeyCondition>) -> SortPlan {
    use SortKeyCondition as S;
    let Some(sort) = sort else {
        return SortPlan::Query(None);
    };
    match sort {
        S::Prefix(v) | S::Ge(v) | S::Gt(v) if v.is_empty() => SortPlan::Query(None),
        S::Eq(v) | S::Lt(v) | S::Le(v) if v.is_empty() => SortPlan::Nothing,
        S::Between(_, hi) if hi.is_empty() => SortPlan::Nothing,
        S::Between(lo, hi) if lo.is_empty() => SortPlan::Query(Some(S::Le(hi.clone()))),
        // DynamoDB rejects BETWEEN with lo > hi; the port's answer is simply "nothing".
        S::Between(lo, hi) if lo.as_bytes() > hi.as_bytes() => SortPlan::Nothing,
        other => SortPlan::Query(Some(other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }
    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.to_owned())
    }
    fn names(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(p, a)| (p.to_string(), a.to_string()))
                .collect(),
        )
    }
    fn values(pairs: &[(&str, AttributeValue)]) -> Option<HashMap<String, AttributeValue>> {
        Some(
            pairs
                .iter()
                .map(|(p, v)| (p.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn item_existence_uses_the_partition_key() {
        let mut b = ExprBuilder::new();
        assert_eq!(
            b.condition(&Condition::ItemNotExists).unwrap(),
            "attribute_not_exists(#n0)"
        );
        assert_eq!(
            b.condition(&Condition::ItemExists).unwrap(),
            "attribute_exists(#n0)"
        );
        assert_eq!(
            b.finish(),
            Placeholders {
                names: names(&[("#n0", "pk")]),
                values: None
            }
        );
    }

    #[test]
    fn comparisons_and_combinators() {
        let mut b = ExprBuilder::new();
        let cond = Condition::ItemNotExists
            .or(Condition::lt("ttl", 100).and(Condition::eq("status", "pending")))
            .or(Condition::Not(Box::new(Condition::AttrExists(
                "claimed".into(),
            ))));
        assert_eq!(
            b.condition(&cond).unwrap(),
            "((attribute_not_exists(#n0) OR ((attribute_type(#n1, :v1) AND #n1 < :v0) AND #n2 = :v2)) OR (NOT attribute_exists(#n3)))"
        );
        assert_eq!(
            b.finish(),
            Placeholders {
                names: names(&[
                    ("#n0", "pk"),
                    ("#n1", "ttl"),
                    ("#n2", "status"),
                    ("#n3", "claimed")
                ]),
                values: values(&[(":v0", n("100")), (":v1", s("N")), (":v2", s("pending"))]),
            }
        );
    }

    #[test]
    fn not_equal_requires_the_attribute_with_the_same_type() {
        let mut b = ExprBuilder::new();
        assert_eq!(
            b.condition(&Condition::ne("count", 3)).unwrap(),
            "(attribute_type(#n0, :v1) AND #n0 <> :v0)"
        );
        assert_eq!(
            b.finish().values,
            values(&[(":v0", n("3")), (":v1", s("N"))])
        );
    }

    #[test]
    fn ordering_a_bool_renders_false() {
        let mut b = ExprBuilder::new();
        assert_eq!(
            b.condition(&Condition::gt("flag", true)).unwrap(),
            "(attribute_exists(#n0) AND attribute_not_exists(#n0))"
        );
        assert_eq!(b.finish().names, names(&[("#n0", "pk")]));
    }

    #[test]
    fn empty_and_is_true_and_empty_or_is_false() {
        let mut b = ExprBuilder::new();
        assert_eq!(
            b.condition(&Condition::And(vec![])).unwrap(),
            "(attribute_exists(#n0) OR attribute_not_exists(#n0))"
        );
        assert_eq!(
            b.condition(&Condition::Or(vec![])).unwrap(),
            "(attribute_exists(#n0) AND attribute_not_exists(#n0))"
        );
    }

    #[test]
    fn values_of_every_json_type() {
        let mut b = ExprBuilder::new();
        b.condition(&Condition::eq("m", json!({"a": [1, "x", null, false]})))
            .unwrap();
        let values = b.finish().values.unwrap();
        let AttributeValue::M(map) = &values[":v0"] else {
            panic!("expected a map, got {values:?}");
        };
        assert_eq!(
            map["a"],
            AttributeValue::L(vec![
                n("1"),
                s("x"),
                AttributeValue::Null(true),
                AttributeValue::Bool(false)
            ])
        );
    }

    #[test]
    fn update_renders_set_add_remove_with_reserved_words() {
        let update = Update::new()
            .set("status", "sent")
            .set("ttl", 1_700_000_000)
            .add("sent_count", 1)
            .add("budget", -3)
            .remove("claim")
            .remove("name");
        let mut b = ExprBuilder::new();
        assert_eq!(
            b.update(&update).unwrap(),
            "SET #n0 = :v0, #n1 = :v1 ADD #n2 :v2, #n3 :v3 REMOVE #n4, #n5"
        );
        let p = b.finish();
        assert_eq!(
            p.names,
            names(&[
                ("#n0", "status"),
                ("#n1", "ttl"),
                ("#n2", "sent_count"),
                ("#n3", "budget"),
                ("#n4", "claim"),
                ("#n5", "name"),
            ])
        );
        assert_eq!(
            p.values,
            values(&[
                (":v0", s("sent")),
                (":v1", n("1700000000")),
                (":v2", n("1")),
                (":v3", n("-3"))
            ])
        );
    }

    #[test]
    fn update_and_condition_share_placeholders() {
        let mut b = ExprBuilder::new();
        let update = b.update(&Update::new().set("status", "claimed")).unwrap();
        let cond = b.condition(&Condition::eq("status", "pending")).unwrap();
        assert_eq!(update, "SET #n0 = :v0");
        assert_eq!(cond, "#n0 = :v1");
    }

    #[test]
    fn remove_only_update_has_no_values() {
        let mut b = ExprBuilder::new();
        assert_eq!(b.update(&Update::new().remove("x")).unwrap(), "REMOVE #n0");
        assert_eq!(b.finish().values, None);
    }

    #[test]
    fn key_conditions_per_index_and_sort_condition() {
        let cases = [
            (Index::Primary, None, "#n0 = :v0", "pk", "sk"),
            (
                Index::Primary,
                Some(SortKeyCondition::Eq("a".into())),
                "#n0 = :v0 AND #n1 = :v1",
                "pk",
                "sk",
            ),
            (
                Index::Gsi1,
                Some(SortKeyCondition::Prefix("MSG#".into())),
                "#n0 = :v0 AND begins_with(#n1, :v1)",
                "gsi1pk",
                "gsi1sk",
            ),
            (
                Index::Gsi2,
                Some(SortKeyCondition::Between("a".into(), "b".into())),
                "#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2",
                "gsi2pk",
                "gsi2sk",
            ),
            (
                Index::Primary,
                Some(SortKeyCondition::Lt("a".into())),
                "#n0 = :v0 AND #n1 < :v1",
                "pk",
                "sk",
            ),
            (
                Index::Primary,
                Some(SortKeyCondition::Le("a".into())),
                "#n0 = :v0 AND #n1 <= :v1",
                "pk",
                "sk",
            ),
            (
                Index::Primary,
                Some(SortKeyCondition::Gt("a".into())),
                "#n0 = :v0 AND #n1 > :v1",
                "pk",
                "sk",
            ),
            (
                Index::Primary,
                Some(SortKeyCondition::Ge("a".into())),
                "#n0 = :v0 AND #n1 >= :v1",
                "pk",
                "sk",
            ),
        ];
        for (index, sort, expected, pk, sk) in cases {
            let mut b = ExprBuilder::new();
            assert_eq!(b.key_condition(index, "TENANT#1", sort.as_ref()), expected);
            let p = b.finish();
            let names = p.names.unwrap();
            assert_eq!(names["#n0"], pk);
            if sort.is_some() {
                assert_eq!(names["#n1"], sk);
            }
            assert_eq!(p.values.unwrap()[":v0"], s("TENANT#1"));
        }
    }

    #[test]
    fn ttl_filter_hides_items_with_a_past_numeric_ttl() {
        let mut b = ExprBuilder::new();
        b.key_condition(Index::Primary, "p", None);
        assert_eq!(
            b.not_expired(42),
            "(attribute_not_exists(#n1) OR NOT attribute_type(#n1, :v1) OR #n1 > :v2)"
        );
        let p = b.finish();
        assert_eq!(p.names.unwrap()["#n1"], "ttl");
        let values = p.values.unwrap();
        assert_eq!(values[":v1"], s("N"));
        assert_eq!(values[":v2"], n("42"));
    }

    #[test]
    fn empty_sort_values_never_reach_dynamodb() {
        use SortKeyCondition as S;
        let q = |c: S| normalize_sort(Some(&c));
        assert_eq!(q(S::Prefix(String::new())), SortPlan::Query(None));
        assert_eq!(q(S::Ge(String::new())), SortPlan::Query(None));
        assert_eq!(q(S::Gt(String::new())), SortPlan::Query(None));
        assert_eq!(q(S::Eq(String::new())), SortPlan::Nothing);
        assert_eq!(q(S::Lt(String::new())), SortPlan::Nothing);
        assert_eq!(q(S::Le(String::new())), SortPlan::Nothing);
        assert_eq!(q(S::Between("a".into(), String::new())), SortPlan::Nothing);
        assert_eq!(
            q(S::Between(String::new(), "b".into())),
            SortPlan::Query(Some(S::Le("b".into())))
        );
        assert_eq!(q(S::Between("b".into(), "a".into())), SortPlan::Nothing);
        assert_eq!(
            q(S::Prefix("x".into())),
            SortPlan::Query(Some(S::Prefix("x".into())))
        );
        assert_eq!(normalize_sort(None), SortPlan::Query(None));
    }
}
