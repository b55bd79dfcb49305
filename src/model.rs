//! The FeatureStore (`feast.dev/v1`) as Rust types: every field of `spec` the CRD declares, the
//! ones the plugin reasons about typed with k8s-openapi's own types (the HPA's metrics and
//! behavior, the PDB's int-or-string values, the Deployment strategy, affinity, topology
//! spread, resource requirements), the others kept as they are.
//!
//! The types describe themselves as a JSON schema ([`schema`]): the one the structural check
//! (`rules::structural`) walks to find unknown fields and wrong types at any depth, as the API
//! server's strict decoding and schema validation do. So a field the model declares is checked
//! the moment it is declared, and no second field list exists. `status` is not modelled yet:
//! the derivations still read it, and `spec`, from the object's JSON. Pure: no I/O.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use k8s_openapi::api::apps::v1::DeploymentStrategy;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscalerBehavior, MetricSpec};
use k8s_openapi::api::core::v1::{
    Affinity, ResourceRequirements, Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `spec` of a `feast.dev/v1` FeatureStore.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureStoreSpec {
    /// Required, `^[A-Za-z0-9][A-Za-z0-9_-]*$` (checked by the schema rules).
    pub feast_project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feast_project_dir: Option<Value>,
    /// The static replica count (also the scale subresource's); the API server defaults it to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Services>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authz: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_engine: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_job: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_quality_monitoring: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materialization: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlflow: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openlineage: Option<Value>,
}

/// `spec.services`: the servers, their persistence, and the pod-level scaling and HA fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Services {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_store: Option<OnlineStore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_store: Option<OfflineStore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<ServerConfigs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_disruption_budgets: Option<PdbConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_strategy: Option<DeploymentStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_init_containers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_feast_apply_on_init: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_image: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_claims: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Value>,
}

/// `spec.services.scaling`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingConfig>,
}

/// `spec.services.scaling.autoscaling`: the HPA the operator creates (§2.2).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_replicas: Option<i32>,
    #[schemars(range(min = 1))]
    pub max_replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<MetricSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<HorizontalPodAutoscalerBehavior>,
}

/// `spec.services.podDisruptionBudgets`: exactly one of the two (a CEL rule says so).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PdbConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available: Option<IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrString>,
}

/// A server block (`onlineStore.server`, `registry.local.server`, `ui`, ...): its resources
/// are typed, the rest of its fields are the operator's and kept as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfigs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineStore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<OnlinePersistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerConfigs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlinePersistence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<OnlineFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<DbStore<OnlineStoreType>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnlineFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<Pvc>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineStore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<OfflinePersistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerConfigs>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflinePersistence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<OfflineFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<DbStore<OfflineStoreType>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineFile {
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<OfflineFileType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<Pvc>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalRegistry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteRegistry>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRegistry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<RegistryPersistence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerConfigs>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRegistry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feast_ref: Option<FeastRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeastRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryPersistence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<RegistryFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<DbStore<RegistryStoreType>>,
}

/// The registry's file persistence; its snake_case keys are the CRD's own.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct RegistryFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<Pvc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_additional_kwargs: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub cache_ttl_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_mode: Option<RegistryCacheMode>,
}

/// A PVC for file persistence: `ref` or `create` (a CEL rule says exactly one), and where it
/// is mounted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pvc {
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<PvcCreate>,
    pub mount_path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PvcCreate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_modes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
}

/// A reference to an object in the store's namespace (`secretRef`, a PVC's `ref`): the CRD
/// defaults its name to "" rather than requiring it, unlike k8s-openapi's
/// `LocalObjectReference`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ObjectRef {
    #[serde(default)]
    pub name: String,
}

/// A database store: its type (an enum per service), and the Secret that holds its settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DbStore<T> {
    #[serde(rename = "type")]
    pub type_: T,
    pub secret_ref: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_name: Option<String>,
}

/// The online store types of the CRD's enum (`sqlite` is not one: it is the file default).
pub const ONLINE_STORE_TYPES: &[&str] = &[
    "snowflake.online",
    "redis",
    "datastore",
    "dynamodb",
    "bigtable",
    "postgres",
    "cassandra",
    "mysql",
    "hazelcast",
    "singlestore",
    "hbase",
    "elasticsearch",
    "qdrant",
    "couchbase.online",
    "milvus",
    "hybrid",
    "mongodb",
    "aerospike",
    "scylladb",
];
/// The offline store types of v1's enum; v1alpha1's lacks `oracle` (§2.8).
pub const OFFLINE_STORE_TYPES: &[&str] = &[
    "snowflake.offline",
    "bigquery",
    "redshift",
    "spark",
    "postgres",
    "trino",
    "athena",
    "mssql",
    "couchbase.offline",
    "clickhouse",
    "ray",
    "oracle",
    "hybrid",
];
pub const REGISTRY_STORE_TYPES: &[&str] = &["sql", "snowflake.registry"];
pub const OFFLINE_FILE_TYPES: &[&str] = &["file", "dask", "duckdb"];
pub const REGISTRY_CACHE_MODES: &[&str] = &["none", "sync", "thread"];

/// A string field whose values the CRD lists as an enum: the value as written (an unknown one
/// is the schema rules' finding, not a parse failure), and a schema that carries the list.
macro_rules! string_enum {
    ($($(#[$meta:meta])* $name:ident = $values:expr;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                schemars::json_schema!({"type": "string", "enum": $values})
            }
        }
    )+};
}

string_enum! {
    OnlineStoreType = ONLINE_STORE_TYPES;
    OfflineStoreType = OFFLINE_STORE_TYPES;
    RegistryStoreType = REGISTRY_STORE_TYPES;
    OfflineFileType = OFFLINE_FILE_TYPES;
    RegistryCacheMode = REGISTRY_CACHE_MODES;
}

/// `status.scalingStatus`: what the operator last saw of the replica count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_replicas: Option<i32>,
}

/// The API versions of the CRD, each with its own schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V1alpha1,
}

impl ApiVersion {
    pub fn of(api_version: &str) -> Option<ApiVersion> {
        match api_version {
            "feast.dev/v1" => Some(ApiVersion::V1),
            "feast.dev/v1alpha1" => Some(ApiVersion::V1alpha1),
            _ => None,
        }
    }
}

/// The fields v1 has and v1alpha1 lacks (§6): an object of v1alpha1 that carries one is
/// refused by strict decoding (`unknown field "spec.replicas"`).
const NOT_IN_V1ALPHA1: &[&str] = &[
    "replicas",
    "batchEngine",
    "dataQualityMonitoring",
    "materialization",
    "mlflow",
    "openlineage",
    "services.scaling",
    "services.podDisruptionBudgets",
    "services.topologySpreadConstraints",
    "services.affinity",
    "services.podAnnotations",
    "services.resourceClaims",
    "services.initImage",
    "services.onlineStore.disabled",
    "services.onlineStore.serving",
];

/// The OpenAPI schema of a whole FeatureStore object of this version, as the structural check
/// reads it: `spec` from the model, every sub-schema inlined.
pub fn schema(version: ApiVersion) -> &'static Value {
    static V1: OnceLock<Value> = OnceLock::new();
    static V1ALPHA1: OnceLock<Value> = OnceLock::new();
    match version {
        ApiVersion::V1 => V1.get_or_init(|| object_schema(ApiVersion::V1)),
        ApiVersion::V1alpha1 => V1ALPHA1.get_or_init(|| object_schema(ApiVersion::V1alpha1)),
    }
}

fn object_schema(version: ApiVersion) -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
    });
    let mut spec = settings
        .into_generator()
        .into_root_schema_for::<FeatureStoreSpec>()
        .to_value();
    if let Some(o) = spec.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
    }
    if version == ApiVersion::V1alpha1 {
        for path in NOT_IN_V1ALPHA1 {
            remove_property(&mut spec, path);
        }
        if let Some(Value::Array(types)) = spec.pointer_mut(
            "/properties/services/properties/offlineStore/properties/persistence/properties/store/properties/type/enum",
        ) {
            types.retain(|t| t != "oracle");
        }
    }
    serde_json::json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object"},
        },
    })
}

/// Removes `a.b.c` from a schema's `properties` (and from its parent's `required`).
fn remove_property(schema: &mut Value, path: &str) {
    let mut node = schema;
    let mut steps: Vec<&str> = path.split('.').collect();
    let Some(last) = steps.pop() else { return };
    for step in steps {
        match node.pointer_mut(&format!("/properties/{step}")) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Some(props) = node.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove(last);
    }
    if let Some(Value::Array(required)) = node.get_mut("required") {
        required.retain(|r| r != last);
    }
}
