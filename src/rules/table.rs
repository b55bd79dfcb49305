//! The table of every rule: its id, severity, origin and what it catches. docs/rules.md's
//! table is generated from it (a test fails when the file is stale; `KUBECTL_FEAST_UPDATE_DOCS=1
//! cargo test --lib rules::table` rewrites it), and a report format that lists rules (SARIF)
//! can read it too. Pure data.

/// One rule as the documentation lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDoc {
    pub id: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// `CEL` (with the contract's rule number), `schema` or `operator`.
    pub origin: &'static str,
    /// Markdown: what the rule catches.
    pub catches: &'static str,
}

/// Declares [`RuleId`] (one variant per rule, its id as text) and [`RULES`] (its documentation),
/// from one list: a rule exists, is documented and is spelt the same everywhere, or the build fails.
macro_rules! rules {
    ($($variant:ident = $id:literal, $severity:ident, $origin:literal, $catches:expr;)+) => {
        /// A rule, by its stable id. Compared as a value, never as text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($variant,)+
        }

        impl RuleId {
            /// Every rule, in the table's order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)+];

            /// The id users see and search for: `scaling/mutual-exclusion`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)+
                }
            }

            /// Its documentation: severity, origin, what it catches.
            pub fn doc(self) -> &'static RuleDoc {
                &RULES[self as usize]
            }
        }

        pub const RULES: &[RuleDoc] = &[
            $(RuleDoc { id: $id, severity: stringify!($severity), origin: $origin, catches: $catches },)+
        ];
    };
}

impl RuleId {
    /// The CRD's four scaling rules (R1-R4): what decides whether a store may scale at all.
    pub fn is_scaling_rule(self) -> bool {
        matches!(
            self,
            RuleId::ScalingMutualExclusion
                | RuleId::ScalingOnlineStoreDb
                | RuleId::ScalingOfflineStoreDb
                | RuleId::ScalingRegistryDbOrRemote
        )
    }
}

impl RuleId {
    /// What a part of an object can be wrong about on its own: field names, types, ranges,
    /// enums, patterns and metadata, but not a required field (a kustomize patch leaves most
    /// out).
    pub fn judges_a_part(self) -> bool {
        matches!(
            self,
            RuleId::SchemaUnknownField
                | RuleId::SchemaType
                | RuleId::SchemaMinimum
                | RuleId::SchemaRange
                | RuleId::SchemaEnum
                | RuleId::SchemaPattern
                | RuleId::MetadataType
                | RuleId::MetadataName
                | RuleId::MetadataNamespace
                | RuleId::MetadataLabels
                | RuleId::MetadataAnnotations
        )
    }
}

/// docs/guide.md, built in: `validate --explain RULE` prints a rule's section of it.
const GUIDE: &str = include_str!("../../docs/guide.md");

impl RuleId {
    /// The rule named `id` (`scaling/online-store-db`).
    pub fn parse(id: &str) -> Option<RuleId> {
        RuleId::ALL.iter().copied().find(|r| r.as_str() == id)
    }

    /// Its section of the guide ("Troubleshooting, by rule id"): what it means and what to do,
    /// from its heading to the next one.
    pub fn explain(self) -> Option<&'static str> {
        let heading = format!("\n### `{}`", self.as_str());
        let start = GUIDE.find(&heading)? + 1;
        let rest = &GUIDE[start..];
        let end = ["\n## ", "\n### "]
            .iter()
            .filter_map(|h| rest[4..].find(h))
            .min();
        let body = end.map_or(rest, |end| &rest[..end + 4]);
        Some(body.trim_end())
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

rules! {
    ScalingMutualExclusion = "scaling/mutual-exclusion", error, "CEL (R1)",
        "`spec.replicas` > 1 together with `services.scaling.autoscaling`";
    ScalingOnlineStoreDb = "scaling/online-store-db", error, "CEL (R2)",
        "scaling without `services.onlineStore.persistence.store` (even when the online store is disabled)";
    ScalingOfflineStoreDb = "scaling/offline-store-db", error, "CEL (R3)",
        "scaling with an offline store that is not DB-backed (an absent offline store is fine)";
    ScalingRegistryDbOrRemote = "scaling/registry-db-or-remote", error, "CEL (R4)",
        "scaling without a remote, DB-backed, or `s3://`/`gs://` registry (case-sensitive; an absent registry fails)";
    PdbExactlyOne = "pdb/exactly-one", error, "CEL",
        "`podDisruptionBudgets` with both or neither of `minAvailable`/`maxUnavailable`";
    PersistenceFileOrStore = "persistence/file-or-store", error, "CEL",
        "a `persistence` block with both or neither of `file`/`store`";
    PersistenceEphemeralAbsolutePath = "persistence/ephemeral-absolute-path", error, "CEL",
        "online file path without a PVC that is not absolute";
    PersistencePvcRelativePath = "persistence/pvc-relative-path", error, "CEL",
        "file path on a PVC that starts with `/`";
    PersistenceOnlineObjectStore = "persistence/online-object-store", error, "CEL",
        "online store file path on `s3://` or `gs://`";
    PersistenceRegistryPath = "persistence/registry-path", error, "CEL",
        "registry file path without a PVC that is neither absolute nor `s3://`/`gs://`";
    PersistencePvcObjectStore = "persistence/pvc-object-store", error, "CEL",
        "registry file on a PVC with an object-store path";
    PersistenceS3Kwargs = "persistence/s3-kwargs", error, "CEL",
        "`s3_additional_kwargs` with a path that is not `s3://`";
    PvcRefOrCreate = "pvc/ref-or-create", error, "CEL",
        "a PVC block with both or neither of `ref`/`create`";
    PvcMountPath = "pvc/mount-path", error, "CEL",
        "`mountPath` not starting with `/` or containing `:`";
    RegistryLocalOrRemote = "registry/local-or-remote", error, "CEL",
        "`services.registry` with both or neither of `local`/`remote`";
    RegistryRemoteOneOf = "registry/remote-one-of", error, "CEL",
        "`registry.remote` with both or neither of `hostname`/`feastRef`";
    RegistryServerProtocol = "registry/server-protocol", error, "CEL",
        "registry server with `grpc: false` and no `restAPI: true`";
    RegistryMcpNeedsRest = "registry/mcp-needs-rest", error, "CEL",
        "registry MCP enabled without `restAPI: true` (v1)";
    SchemaUnknownField = "schema/unknown-field", error, "schema",
        "a field the schema does not declare (`spec.replica`, a block indented one level off, a v1 field in a v1alpha1 object), with the nearest declared field; the typed model covers `spec`, `services`, the stores' persistence, scaling, budgets, strategy, spread and affinity at any depth, a CRD (`--crd`, live) every field";
    SchemaType = "schema/type", error, "schema",
        "a field of the wrong JSON type at any depth (`averageUtilization: \"60\"`, a string `periodSeconds`), int-or-string values included";
    SchemaMinimum = "schema/minimum", error, "schema",
        "`replicas`, `minReplicas`, `maxReplicas` below 1; `cache_ttl_seconds` below 0";
    SchemaRange = "schema/range", error, "schema",
        "an integer outside its format's range (`replicas: 2147483648` is beyond int32) or above a maximum";
    SchemaRequired = "schema/required", error, "schema",
        "`feastProject`, `maxReplicas`, store `type`/`secretRef`, PVC `mountPath`, a metric's `type`, a spread constraint's `maxSkew`, ... missing";
    SchemaEnum = "schema/enum", error, "schema",
        "store types, offline file type, registry `cache_mode` outside their enums";
    SchemaPattern = "schema/pattern", error, "schema",
        "`feastProject` not matching `^[A-Za-z0-9][A-Za-z0-9_-]*$`";
    MetadataType = "metadata/type", error, "schema",
        "`metadata` (or its `name`, `namespace`, `labels`, `annotations`) of the wrong JSON type, which kubectl cannot even decode";
    MetadataName = "metadata/name", error, "schema",
        "`metadata.name` missing (without `generateName`) or not a lowercase RFC 1123 subdomain (a name such as `x; curl ... | sh` is refused, not pasted into a hint)";
    MetadataNamespace = "metadata/namespace", error, "schema",
        "`metadata.namespace` not a lowercase RFC 1123 label";
    MetadataLabels = "metadata/labels", error, "schema",
        "a label key that is not a qualified name, or a value longer than 63 bytes or not a valid label value";
    MetadataAnnotations = "metadata/annotations", error, "schema",
        "an annotation key that is not a qualified name, or annotations larger than 256 KiB together";
    AutoscalingMinExceedsMax = "autoscaling/min-exceeds-max", error, "operator",
        "`minReplicas` > `maxReplicas`: the HPA API rejects it, the reconcile fails";
    AutoscalingInvalidMetric = "autoscaling/invalid-metric", error, "operator",
        "a metric the HPA API rejects (unknown type, missing source, wrong target)";
    AutoscalingInvalidBehavior = "autoscaling/invalid-behavior", error, "operator",
        "HPA behaviour out of range (window 0–3600 s, policy value > 0, period 1–1800 s, selectPolicy)";
    PdbMalformedValue = "pdb/malformed-value", error, "operator",
        "a budget value that is not an int ≥ 0 or `N%` ≤ 100%: the PDB API rejects it";
    AutoscalingMissingResourceRequest = "autoscaling/missing-resource-request", warning, "operator",
        "a CPU/memory Utilization metric (or the default 80% CPU) while a serving container sets no matching request";
    PdbBlocksEvictions = "pdb/blocks-evictions", warning, "operator",
        "a budget that allows no voluntary eviction at the minimum replica count: drains stall";
    PdbInactive = "pdb/inactive", warning, "operator",
        "a budget configured while scaling is off: no PDB exists";
    StrategyRecreateWhileScaling = "strategy/recreate-while-scaling", warning, "operator",
        "explicit `Recreate` while scaling: every rollout is downtime";
    VersionV1alpha1 = "version/v1alpha1", warning, "operator",
        "a `feast.dev/v1alpha1` object: deprecated, no scaling fields (each one it carries is an unknown field)";
    InitFeastApplyEveryPod = "init/feast-apply-every-pod", info, "operator",
        "`feast apply` runs in every pod at every start while scaling";
    CrdRule = "crd/rule", error, "CEL",
        "with `--crd` (or live objects): a CRD rule kubectl-feast has no mirror of fails";
    CrdDisagreement = "crd/disagreement", warning, "operator",
        "a mirrored rule fails but the given CRD does not fail it (an older CRD?)";
    CrdNotEvaluated = "crd/not-evaluated", info, "CEL",
        "a CRD rule kube-cel could not evaluate locally; the API server still will";
    KedaTargetsDeployment = "keda/targets-deployment", error, "operator",
        "a KEDA ScaledObject whose `scaleTargetRef` is the operator's Deployment `feast-<name>` (`apps/v1` `Deployment`, or `kind` omitted): the operator resets the Deployment's replicas, so KEDA's HPA and the operator fight; the fix targets `feast.dev/v1` `FeatureStore` `<name>`";
    KedaTwoOwners = "keda/two-owners", error, "operator",
        "a ScaledObject on a store that also has `services.scaling.autoscaling` (live or in files), or `spec.replicas` > 1 in its manifest (live, `spec.replicas` is KEDA's own write)";
    KedaUnsafePersistence = "keda/unsafe-persistence", error, "operator",
        "a ScaledObject with `maxReplicaCount` > 1 (KEDA's default is 100) on a store whose persistence is not safe to scale: the API server rejects every scale write KEDA makes";
    KedaMissingResourceRequest = "keda/missing-resource-request", warning, "operator",
        "a ScaledObject `cpu` or `memory` trigger on utilization (KEDA's default `metricType`) while a serving container of the store sets no matching request";
    KedaPaused = "keda/paused", info, "operator",
        "a ScaledObject paused by `autoscaling.keda.sh/paused` or `autoscaling.keda.sh/paused-replicas`: KEDA leaves the count alone";
    KedaScaleToZero = "keda/scale-to-zero", error, "schema",
        "a ScaledObject on a FeatureStore with `minReplicaCount: 0` or `idleReplicaCount: 0` (or, with a trigger other than `cpu` and `memory`, no `minReplicaCount`: KEDA's default is 0): the CRD's minimum for `spec.replicas` is 1, so the API server refuses KEDA's write of 0 through the scale subresource";
    KedaTargetNotFound = "keda/target-not-found", warning, "operator",
        "a ScaledObject whose `scaleTargetRef` names a FeatureStore that is not in the input (or, live, not in its namespace), with the nearest name there is";
}

/// The markdown table of docs/rules.md.
pub fn markdown_table() -> String {
    let mut s = String::from("| rule | severity | origin | what it catches |\n|---|---|---|---|\n");
    for r in RULES {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            r.id, r.severity, r.origin, r.catches
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "docs/rules.md";

    /// docs/rules.md's table is exactly the one generated from [`RULES`].
    #[test]
    fn every_rule_has_its_section_in_the_guide() {
        for r in RuleId::ALL {
            let text = r
                .explain()
                .unwrap_or_else(|| panic!("no guide section for {r}"));
            assert!(text.starts_with(&format!("### `{r}`")), "{text}");
            // One section: it stops before the next heading.
            assert_eq!(
                text.matches("\n## ").count() + text.matches("\n### ").count(),
                0,
                "{text}"
            );
            assert!(text.lines().count() >= 3, "{text}");
            assert_eq!(RuleId::parse(r.as_str()), Some(*r));
        }
        assert_eq!(RuleId::parse("scaling/nope"), None);
    }

    #[test]
    fn docs_rules_md_is_generated_from_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
        let text = std::fs::read_to_string(&path).expect("docs/rules.md");
        let start = text
            .find("| rule | severity |")
            .expect("the table's header");
        let end = text[start..]
            .find("\n\n")
            .map_or(text.len(), |i| start + i + 1);
        let generated = markdown_table();
        if text[start..end] != generated {
            if std::env::var_os("KUBECTL_FEAST_UPDATE_DOCS").is_some() {
                let updated = format!("{}{}{}", &text[..start], generated, &text[end..]);
                std::fs::write(&path, updated).expect("write docs/rules.md");
            } else {
                panic!(
                    "{DOC} is stale: run `KUBECTL_FEAST_UPDATE_DOCS=1 cargo test --lib rules::table` (or scripts/gen-docs)"
                );
            }
        }
    }

    #[test]
    fn every_variant_is_its_table_row() {
        assert_eq!(RuleId::ALL.len(), RULES.len());
        for (i, r) in RuleId::ALL.iter().enumerate() {
            assert_eq!(r.doc().id, r.as_str());
            assert_eq!(RULES[i].id, r.as_str());
        }
        let scaling: Vec<&str> = RuleId::ALL
            .iter()
            .filter(|r| r.is_scaling_rule())
            .map(|r| r.as_str())
            .collect();
        assert!(scaling.iter().all(|id| id.starts_with("scaling/")) && scaling.len() == 4);
    }

    #[test]
    fn ids_are_unique_and_severities_known() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            RULES
                .iter()
                .all(|r| matches!(r.severity, "error" | "warning" | "info"))
        );
    }
}
