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

pub const RULES: &[RuleDoc] = &[
    RuleDoc {
        id: "scaling/mutual-exclusion",
        severity: "error",
        origin: "CEL (R1)",
        catches: "`spec.replicas` > 1 together with `services.scaling.autoscaling`",
    },
    RuleDoc {
        id: "scaling/online-store-db",
        severity: "error",
        origin: "CEL (R2)",
        catches: "scaling without `services.onlineStore.persistence.store` (even when the online store is disabled)",
    },
    RuleDoc {
        id: "scaling/offline-store-db",
        severity: "error",
        origin: "CEL (R3)",
        catches: "scaling with an offline store that is not DB-backed (an absent offline store is fine)",
    },
    RuleDoc {
        id: "scaling/registry-db-or-remote",
        severity: "error",
        origin: "CEL (R4)",
        catches: "scaling without a remote, DB-backed, or `s3://`/`gs://` registry (case-sensitive; an absent registry fails)",
    },
    RuleDoc {
        id: "pdb/exactly-one",
        severity: "error",
        origin: "CEL",
        catches: "`podDisruptionBudgets` with both or neither of `minAvailable`/`maxUnavailable`",
    },
    RuleDoc {
        id: "persistence/file-or-store",
        severity: "error",
        origin: "CEL",
        catches: "a `persistence` block with both or neither of `file`/`store`",
    },
    RuleDoc {
        id: "persistence/ephemeral-absolute-path",
        severity: "error",
        origin: "CEL",
        catches: "online file path without a PVC that is not absolute",
    },
    RuleDoc {
        id: "persistence/pvc-relative-path",
        severity: "error",
        origin: "CEL",
        catches: "file path on a PVC that starts with `/`",
    },
    RuleDoc {
        id: "persistence/online-object-store",
        severity: "error",
        origin: "CEL",
        catches: "online store file path on `s3://` or `gs://`",
    },
    RuleDoc {
        id: "persistence/registry-path",
        severity: "error",
        origin: "CEL",
        catches: "registry file path without a PVC that is neither absolute nor `s3://`/`gs://`",
    },
    RuleDoc {
        id: "persistence/pvc-object-store",
        severity: "error",
        origin: "CEL",
        catches: "registry file on a PVC with an object-store path",
    },
    RuleDoc {
        id: "persistence/s3-kwargs",
        severity: "error",
        origin: "CEL",
        catches: "`s3_additional_kwargs` with a path that is not `s3://`",
    },
    RuleDoc {
        id: "pvc/ref-or-create",
        severity: "error",
        origin: "CEL",
        catches: "a PVC block with both or neither of `ref`/`create`",
    },
    RuleDoc {
        id: "pvc/mount-path",
        severity: "error",
        origin: "CEL",
        catches: "`mountPath` not starting with `/` or containing `:`",
    },
    RuleDoc {
        id: "registry/local-or-remote",
        severity: "error",
        origin: "CEL",
        catches: "`services.registry` with both or neither of `local`/`remote`",
    },
    RuleDoc {
        id: "registry/remote-one-of",
        severity: "error",
        origin: "CEL",
        catches: "`registry.remote` with both or neither of `hostname`/`feastRef`",
    },
    RuleDoc {
        id: "registry/server-protocol",
        severity: "error",
        origin: "CEL",
        catches: "registry server with `grpc: false` and no `restAPI: true`",
    },
    RuleDoc {
        id: "registry/mcp-needs-rest",
        severity: "error",
        origin: "CEL",
        catches: "registry MCP enabled without `restAPI: true` (v1)",
    },
    RuleDoc {
        id: "schema/unknown-field",
        severity: "error",
        origin: "schema",
        catches: "a field the schema does not declare (`spec.replica`, a block indented one level off, a v1 field in a v1alpha1 object), with the nearest declared field; the typed model covers `spec`, `services`, the stores' persistence, scaling, budgets, strategy, spread and affinity at any depth, a CRD (`--crd`, live) every field",
    },
    RuleDoc {
        id: "schema/type",
        severity: "error",
        origin: "schema",
        catches: "a field of the wrong JSON type at any depth (`averageUtilization: \"60\"`, a string `periodSeconds`), int-or-string values included",
    },
    RuleDoc {
        id: "schema/minimum",
        severity: "error",
        origin: "schema",
        catches: "`replicas`, `minReplicas`, `maxReplicas` below 1; `cache_ttl_seconds` below 0",
    },
    RuleDoc {
        id: "schema/range",
        severity: "error",
        origin: "schema",
        catches: "an integer outside its format's range (`replicas: 2147483648` is beyond int32) or above a maximum",
    },
    RuleDoc {
        id: "schema/required",
        severity: "error",
        origin: "schema",
        catches: "`feastProject`, `maxReplicas`, store `type`/`secretRef`, PVC `mountPath`, a metric's `type`, a spread constraint's `maxSkew`, ... missing",
    },
    RuleDoc {
        id: "schema/enum",
        severity: "error",
        origin: "schema",
        catches: "store types, offline file type, registry `cache_mode` outside their enums",
    },
    RuleDoc {
        id: "schema/pattern",
        severity: "error",
        origin: "schema",
        catches: "`feastProject` not matching `^[A-Za-z0-9][A-Za-z0-9_-]*$`",
    },
    RuleDoc {
        id: "autoscaling/min-exceeds-max",
        severity: "error",
        origin: "operator",
        catches: "`minReplicas` > `maxReplicas`: the HPA API rejects it, the reconcile fails",
    },
    RuleDoc {
        id: "autoscaling/invalid-metric",
        severity: "error",
        origin: "operator",
        catches: "a metric the HPA API rejects (unknown type, missing source, wrong target)",
    },
    RuleDoc {
        id: "autoscaling/invalid-behavior",
        severity: "error",
        origin: "operator",
        catches: "HPA behaviour out of range (window 0–3600 s, policy value > 0, period 1–1800 s, selectPolicy)",
    },
    RuleDoc {
        id: "pdb/malformed-value",
        severity: "error",
        origin: "operator",
        catches: "a budget value that is not an int ≥ 0 or `N%` ≤ 100%: the PDB API rejects it",
    },
    RuleDoc {
        id: "autoscaling/missing-resource-request",
        severity: "warning",
        origin: "operator",
        catches: "a CPU/memory Utilization metric (or the default 80% CPU) while a serving container sets no matching request",
    },
    RuleDoc {
        id: "pdb/blocks-evictions",
        severity: "warning",
        origin: "operator",
        catches: "a budget that allows no voluntary eviction at the minimum replica count: drains stall",
    },
    RuleDoc {
        id: "pdb/inactive",
        severity: "warning",
        origin: "operator",
        catches: "a budget configured while scaling is off: no PDB exists",
    },
    RuleDoc {
        id: "strategy/recreate-while-scaling",
        severity: "warning",
        origin: "operator",
        catches: "explicit `Recreate` while scaling: every rollout is downtime",
    },
    RuleDoc {
        id: "version/v1alpha1",
        severity: "warning",
        origin: "operator",
        catches: "a `feast.dev/v1alpha1` object: deprecated, no scaling fields (each one it carries is an unknown field)",
    },
    RuleDoc {
        id: "init/feast-apply-every-pod",
        severity: "info",
        origin: "operator",
        catches: "`feast apply` runs in every pod at every start while scaling",
    },
    RuleDoc {
        id: "crd/rule",
        severity: "error",
        origin: "CEL",
        catches: "with `--crd` (or live objects): a CRD rule kubectl-feast has no mirror of fails",
    },
    RuleDoc {
        id: "crd/disagreement",
        severity: "warning",
        origin: "operator",
        catches: "a mirrored rule fails but the given CRD does not fail it (an older CRD?)",
    },
    RuleDoc {
        id: "crd/not-evaluated",
        severity: "info",
        origin: "CEL",
        catches: "a CRD rule kube-cel could not evaluate locally; the API server still will",
    },
    RuleDoc {
        id: "keda/targets-deployment",
        severity: "error",
        origin: "operator",
        catches: "a KEDA ScaledObject whose `scaleTargetRef` is the operator's Deployment `feast-<name>` (`apps/v1` `Deployment`, or `kind` omitted): the operator resets the Deployment's replicas, so KEDA's HPA and the operator fight; the fix targets `feast.dev/v1` `FeatureStore` `<name>`",
    },
    RuleDoc {
        id: "keda/two-owners",
        severity: "error",
        origin: "operator",
        catches: "a ScaledObject on a store that also has `services.scaling.autoscaling` (live or in files), or `spec.replicas` > 1 in its manifest (live, `spec.replicas` is KEDA's own write)",
    },
    RuleDoc {
        id: "keda/unsafe-persistence",
        severity: "error",
        origin: "operator",
        catches: "a ScaledObject with `maxReplicaCount` > 1 (KEDA's default is 100) on a store whose persistence is not safe to scale: the API server rejects every scale write KEDA makes",
    },
    RuleDoc {
        id: "keda/missing-resource-request",
        severity: "warning",
        origin: "operator",
        catches: "a ScaledObject `cpu` or `memory` trigger on utilization (KEDA's default `metricType`) while a serving container of the store sets no matching request",
    },
    RuleDoc {
        id: "keda/paused",
        severity: "info",
        origin: "operator",
        catches: "a ScaledObject paused by `autoscaling.keda.sh/paused` or `autoscaling.keda.sh/paused-replicas`: KEDA leaves the count alone",
    },
];

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
