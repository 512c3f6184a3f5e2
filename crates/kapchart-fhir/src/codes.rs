//! The code systems and codes the export uses (docs/fhir.md says where
//! each comes from).

/// LOINC.
pub(crate) const LOINC: &str = "http://loinc.org";
/// SNOMED CT.
pub(crate) const SNOMED: &str = "http://snomed.info/sct";
/// RxNorm.
pub(crate) const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
/// UCUM, the units.
pub(crate) const UCUM: &str = "http://unitsofmeasure.org";
/// The NPI (individual and organizational).
pub(crate) const US_NPI: &str = "http://hl7.org/fhir/sid/us-npi";
/// The IRS's employer identification numbers.
pub(crate) const US_EIN: &str = "urn:oid:2.16.840.1.113883.4.4";
/// HL7 v3 ActCode (encounter class, consent policy).
pub(crate) const V3_ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7 v3 ParticipationType (an encounter's primary performer).
pub(crate) const V3_PARTICIPATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// HL7 v3 DataOperation (a provenance's activity).
pub(crate) const V3_DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
/// Observation categories.
pub(crate) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
/// Condition categories.
pub(crate) const CONDITION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/condition-category";
/// ICD-10-CM, the diagnoses.
pub(crate) const ICD10_CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// Consent scopes.
pub(crate) const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";
/// Provenance agent types.
pub(crate) const PROVENANCE_AGENT_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
/// DICOM's controlled terms (audit event types).
pub(crate) const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// Audit event source types.
pub(crate) const AUDIT_SOURCE_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/security-source-type";
/// Audit entity types.
pub(crate) const AUDIT_ENTITY_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/audit-entity-type";
/// Audit entity roles.
pub(crate) const AUDIT_OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";

/// kapchart's own identifiers: a client's id.
pub(crate) const KAPCHART_CLIENT: &str = "urn:kapchart:client";
/// A staff member's user id.
pub(crate) const KAPCHART_USER: &str = "urn:kapchart:user";
/// A session, as `<client>/<session>`.
pub(crate) const KAPCHART_SESSION: &str = "urn:kapchart:session";
/// A prescription, as `<client>/<prescription>`.
pub(crate) const KAPCHART_PRESCRIPTION: &str = "urn:kapchart:prescription";
/// An entry of a client's hash chain, as
/// `ClientRecord/<client>/<sequence>/<hash>`.
pub(crate) const KAPCHART_CHAIN_ENTRY: &str = "urn:kapchart:chain-entry";
/// An entry of the access log's hash chain, as `<sequence>/<hash>`.
pub(crate) const KAPCHART_ACCESS_ENTRY: &str = "urn:kapchart:access-log-entry";
/// An access-log action (ASTM E2147-18 7.1.8), by its stored name.
pub(crate) const KAPCHART_ACCESS_ACTION: &str = "urn:kapchart:access-action";

/// LOINC: Blood pressure panel with all children optional.
pub const LOINC_BP_PANEL: &str = "85354-9";
/// LOINC: Systolic blood pressure.
pub const LOINC_SYSTOLIC: &str = "8480-6";
/// LOINC: Diastolic blood pressure.
pub const LOINC_DIASTOLIC: &str = "8462-4";
/// LOINC: Patient Health Questionnaire 9 item (PHQ-9) total score \[Reported\].
pub const LOINC_PHQ9_TOTAL: &str = "44261-6";
/// LOINC: Generalized anxiety disorder 7 item (GAD-7) total score
/// \[Reported.PHQ\].
pub const LOINC_GAD7_TOTAL: &str = "70274-6";
/// LOINC: PTSD PCL-5 score \[PCL-5\] (the total of the PCL-5 panel
/// 101697-1).
pub const LOINC_PCL5_TOTAL: &str = "101698-9";
/// LOINC: Beck Depression Inventory II total score \[BDI\].
pub const LOINC_BDI_II_TOTAL: &str = "89209-1";
/// RxNorm: ketamine (the ingredient).
pub const RXNORM_KETAMINE: &str = "6130";
/// SNOMED CT: Sublingual route.
pub const SNOMED_SUBLINGUAL: &str = "37161004";
/// SNOMED CT: Intravenous route.
pub(crate) const SNOMED_INTRAVENOUS: &str = "47625008";
/// SNOMED CT: Intramuscular route.
pub(crate) const SNOMED_INTRAMUSCULAR: &str = "78421000";
