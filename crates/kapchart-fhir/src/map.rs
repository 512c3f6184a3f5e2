//! The mapping from a client's events to FHIR R4 resources (docs/fhir.md).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use kapchart_domain::{
    Administration, ClientEvent, ClientId, Drug, Icd10Code, Milligrams, OutcomeMeasure,
    PracticeSettings, PrescriptionId, Role, Route, SessionId, SessionKind, TimeSpan, UserId,
};
use serde_json::{Map, Value, json};

use crate::codes::*;
use crate::ids::uuid_of;
use crate::{AccessAction, AccessLogEntry, RecordEntry};

/// The FHIR `instant` of a time: UTC, as precise as stored.
fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn reference(id: &str) -> Value {
    json!({ "reference": format!("urn:uuid:{id}") })
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [coding(system, code, display)] })
}

fn milligrams(mg: Milligrams) -> Value {
    json!({ "value": mg.get(), "unit": "mg", "system": UCUM, "code": "mg" })
}

fn mm_hg(value: u16) -> Value {
    json!({ "value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]" })
}

fn ketamine() -> Value {
    json!({
        "coding": [coding(RXNORM, RXNORM_KETAMINE, "ketamine")],
        "text": "ketamine"
    })
}

fn route(route: Route) -> Value {
    match route {
        Route::Sublingual => concept(SNOMED, SNOMED_SUBLINGUAL, "Sublingual route"),
        Route::Intravenous => concept(SNOMED, SNOMED_INTRAVENOUS, "Intravenous route"),
        Route::Intramuscular => concept(SNOMED, SNOMED_INTRAMUSCULAR, "Intramuscular route"),
    }
}

fn session_label(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Intake => "KAP mental health intake session",
        SessionKind::Preparation => "KAP preparation session",
        SessionKind::Exploration => "KAP exploration (ketamine dosing) session",
        SessionKind::Integration => "KAP integration session",
        SessionKind::OngoingCare => "KAP ongoing care session",
    }
}

/// A session held: the fields its Encounter needs.
struct Held<'e> {
    kind: SessionKind,
    session: &'e SessionId,
    span: &'e TimeSpan,
    therapist: &'e UserId,
}

fn held(event: &ClientEvent) -> Option<Held<'_>> {
    let (kind, session, span, therapist) = match event {
        ClientEvent::IntakeRecorded(e) => (SessionKind::Intake, &e.session, &e.span, &e.therapist),
        ClientEvent::PreparationRecorded(e) => {
            (SessionKind::Preparation, &e.session, &e.span, &e.therapist)
        }
        ClientEvent::ExplorationRecorded(e) => {
            (SessionKind::Exploration, &e.session, &e.span, &e.therapist)
        }
        ClientEvent::IntegrationRecorded(e) => {
            (SessionKind::Integration, &e.session, &e.span, &e.therapist)
        }
        ClientEvent::OngoingCareRecorded(e) => {
            (SessionKind::OngoingCare, &e.session, &e.span, &e.therapist)
        }
        _ => return None,
    };
    Some(Held {
        kind,
        session,
        span,
        therapist,
    })
}

/// One client's resources, built in the order of the record.
pub(crate) struct Mapper<'a> {
    client: &'a ClientId,
    entries: &'a [RecordEntry],
    settings: &'a PracticeSettings,
    /// The users who get a Practitioner resource.
    practitioners: BTreeSet<UserId>,
    /// Each session held: the sequence of the entry that recorded it.
    held: BTreeMap<SessionId, u64>,
    /// Each prescription: the sequence of the entry that issued it.
    prescriptions: BTreeMap<PrescriptionId, u64>,
    /// The resources made from entries, in record order.
    resources: Vec<(String, Value)>,
    /// The resources each entry went into (for its Provenance).
    targets: BTreeMap<u64, Vec<String>>,
}

impl<'a> Mapper<'a> {
    pub(crate) fn new(
        client: &'a ClientId,
        entries: &'a [RecordEntry],
        settings: &'a PracticeSettings,
    ) -> Self {
        let mut held_at = BTreeMap::new();
        let mut prescriptions = BTreeMap::new();
        for entry in entries {
            if let Some(h) = held(&entry.event) {
                held_at.insert(h.session.clone(), entry.sequence);
            }
            if let ClientEvent::PrescriptionIssued(p) = &entry.event {
                prescriptions.insert(p.prescription.clone(), entry.sequence);
            }
        }
        Mapper {
            client,
            entries,
            settings,
            practitioners: BTreeSet::new(),
            held: held_at,
            prescriptions,
            resources: Vec::new(),
            targets: BTreeMap::new(),
        }
    }

    fn id(&self, sequence: u64, kind: &str) -> String {
        uuid_of(&format!("client/{}/{sequence}/{kind}", self.client))
    }

    fn patient_id(&self) -> String {
        uuid_of(&format!("client/{}/patient", self.client))
    }

    fn patient(&self) -> Value {
        reference(&self.patient_id())
    }

    fn organization_id() -> String {
        uuid_of("organization")
    }

    fn encounter_id(&self, sequence: u64) -> String {
        self.id(sequence, "encounter")
    }

    fn request_id(&self, sequence: u64) -> String {
        self.id(sequence, "medication-request")
    }

    /// A reference to the user's Practitioner, which the Bundle will hold.
    fn practitioner(&mut self, user: &UserId) -> Value {
        self.practitioners.insert(user.clone());
        reference(&uuid_of(&format!("practitioner/{user}")))
    }

    /// Who acted: their Practitioner when they are a provider (a therapist
    /// or prescriber, or a provider of the settings), else their user id.
    fn who(&mut self, user: &UserId, role: Role) -> Value {
        if matches!(role, Role::Therapist | Role::Prescriber)
            || self.settings.provider(user).is_some()
        {
            self.practitioner(user)
        } else {
            json!({
                "identifier": { "system": KAPCHART_USER, "value": user.as_str() },
                "display": format!("{} {}", role.as_str(), user)
            })
        }
    }

    fn add(&mut self, sequence: u64, id: String, resource: Value) {
        self.targets.entry(sequence).or_default().push(id.clone());
        self.resources.push((id, resource));
    }

    fn target(&mut self, sequence: u64, id: String) {
        let ids = self.targets.entry(sequence).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// The whole Bundle.
    pub(crate) fn bundle(mut self, access: &[AccessLogEntry]) -> Value {
        let entries = self.entries;
        for entry in entries {
            self.entry(entry);
        }
        let provenances: Vec<(String, Value)> = entries
            .iter()
            .filter_map(|entry| self.provenance(entry))
            .collect();
        let audits: Vec<(String, Value)> = access.iter().map(|a| self.audit_event(a)).collect();

        let mut all: Vec<(String, Value)> = Vec::new();
        if let Some(org) = self.organization() {
            all.push(org);
        }
        all.push(self.patient_resource());
        let practitioners: Vec<UserId> = self.practitioners.iter().cloned().collect();
        for user in &practitioners {
            all.push(self.practitioner_resource(user));
        }
        all.append(&mut self.resources);
        all.extend(provenances);
        all.extend(audits);

        let head = entries.last().map(|e| self.chain_entry(e));
        let mut bundle = json!({
            "resourceType": "Bundle",
            "id": uuid_of(&format!("client/{}/bundle", self.client)),
            "type": "collection",
        });
        if let Some(head) = head {
            bundle["identifier"] = head;
        }
        bundle["entry"] = all
            .into_iter()
            .map(|(id, resource)| json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource }))
            .collect();
        bundle
    }

    /// The identifier of a chain entry: aggregate, id, sequence and hash.
    fn chain_entry(&self, entry: &RecordEntry) -> Value {
        json!({
            "system": KAPCHART_CHAIN_ENTRY,
            "value": format!(
                "ClientRecord/{}/{}/{}",
                self.client,
                entry.sequence,
                entry.hash.to_hex()
            )
        })
    }

    fn has_organization(&self) -> bool {
        self.settings.identity().is_some()
    }

    fn organization(&self) -> Option<(String, Value)> {
        let identity = self.settings.identity()?;
        let a = &identity.address;
        let mut lines = vec![a.line1.as_str()];
        if let Some(l2) = &a.line2 {
            lines.push(l2.as_str());
        }
        let id = Self::organization_id();
        let resource = json!({
            "resourceType": "Organization",
            "id": id,
            "identifier": [
                { "system": US_NPI, "value": identity.npi.as_str() },
                { "system": US_EIN, "value": identity.tax_id.as_str() }
            ],
            "active": true,
            "name": identity.name.as_str(),
            "telecom": [{ "system": "phone", "value": identity.phone.as_str(), "use": "work" }],
            "address": [{
                "use": "work",
                "line": lines,
                "city": a.city.as_str(),
                "state": a.state.as_str(),
                "postalCode": a.zip.as_str(),
                "country": "US"
            }]
        });
        Some((id, resource))
    }

    fn patient_resource(&self) -> (String, Value) {
        let id = self.patient_id();
        let mut patient = json!({
            "resourceType": "Patient",
            "id": id,
            "identifier": [{ "system": KAPCHART_CLIENT, "value": self.client.as_str() }],
        });
        if let Some(ClientEvent::ClientRegistered(r)) = self.entries.first().map(|e| &e.event) {
            patient["name"] = json!([{ "use": "official", "text": r.name.as_str() }]);
            patient["birthDate"] = json!(date(r.date_of_birth));
        }
        if self.has_organization() {
            patient["managingOrganization"] = reference(&Self::organization_id());
        }
        (id, patient)
    }

    fn practitioner_resource(&self, user: &UserId) -> (String, Value) {
        let id = uuid_of(&format!("practitioner/{user}"));
        let mut resource = json!({
            "resourceType": "Practitioner",
            "id": id,
        });
        let local = json!({ "system": KAPCHART_USER, "value": user.as_str() });
        match self.settings.provider(user) {
            Some(p) => {
                resource["identifier"] =
                    json!([{ "system": US_NPI, "value": p.npi.as_str() }, local]);
                resource["active"] = json!(p.active);
                resource["name"] = json!([{ "use": "official", "text": p.name.as_str() }]);
                resource["qualification"] = json!([
                    { "code": { "text": p.credentials.as_str() } },
                    {
                        "identifier": [{ "value": p.licence.number.as_str() }],
                        "code": { "text": format!("{} state licence", p.licence.state) },
                        "issuer": { "display": format!("State of {}", p.licence.state) }
                    }
                ]);
            }
            None => resource["identifier"] = json!([local]),
        }
        (id, resource)
    }

    /// The resources of one entry.
    fn entry(&mut self, entry: &RecordEntry) {
        let seq = entry.sequence;
        match &entry.event {
            ClientEvent::ClientRegistered(_) => {
                let id = self.patient_id();
                self.target(seq, id);
            }
            ClientEvent::SessionScheduled(s) => {
                if let Some(&at) = self.held.get(&s.session) {
                    let id = self.encounter_id(at);
                    self.target(seq, id);
                }
            }
            ClientEvent::PrescriptionIssued(p) => self.medication_request(entry, p),
            ClientEvent::DoseAdjusted(d) => {
                if let Some(&at) = self.prescriptions.get(&d.prescription) {
                    let id = self.request_id(at);
                    self.target(seq, id);
                }
            }
            ClientEvent::ConsentRecorded(c) => {
                let id = self.id(seq, "consent");
                let mut consent = json!({
                    "resourceType": "Consent",
                    "id": id,
                    "status": "active",
                    "scope": concept(CONSENT_SCOPE, "treatment", "Treatment"),
                    "category": [concept(LOINC, "59284-0", "Patient Consent")],
                    "patient": self.patient(),
                    "dateTime": date(c.signed_on),
                    "sourceAttachment": { "title": c.form.as_str() },
                    "policyRule": { "text": "Informed consent to ketamine-assisted psychotherapy, on the practice's form" },
                    "provision": { "type": "permit" }
                });
                if self.has_organization() {
                    consent["organization"] = json!([reference(&Self::organization_id())]);
                }
                self.add(seq, id, consent);
            }
            ClientEvent::OutcomeMeasureRecorded(o) => {
                let (code, display, label, score) = match o.measure {
                    OutcomeMeasure::Phq9(s) => (
                        LOINC_PHQ9_TOTAL,
                        "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
                        "PHQ-9 total score",
                        s.get(),
                    ),
                    OutcomeMeasure::Gad7(s) => (
                        LOINC_GAD7_TOTAL,
                        "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
                        "GAD-7 total score",
                        s.get(),
                    ),
                    OutcomeMeasure::Pcl5(s) => (
                        LOINC_PCL5_TOTAL,
                        "PTSD PCL-5 score [PCL-5]",
                        "PCL-5 total score",
                        s.get(),
                    ),
                    OutcomeMeasure::BdiIi(s) => (
                        LOINC_BDI_II_TOTAL,
                        "Beck Depression Inventory II total score [BDI]",
                        "BDI-II total score",
                        s.get(),
                    ),
                };
                let id = self.id(seq, "outcome-measure");
                let observation = json!({
                    "resourceType": "Observation",
                    "id": id,
                    "status": "final",
                    "category": [concept(OBSERVATION_CATEGORY, "survey", "Survey")],
                    "code": {
                        "coding": [coding(LOINC, code, display)],
                        "text": label
                    },
                    "subject": self.patient(),
                    "effectiveDateTime": date(o.administered_on),
                    "valueInteger": score
                });
                self.add(seq, id, observation);
            }
            ClientEvent::EntryAmended(a) => {
                // The amended entry's resources carry the correction as a
                // note, and this entry's Provenance names them.
                let ids = self.targets.get(&a.entry).cloned().unwrap_or_default();
                let text = format!(
                    "Amended by entry {seq} ({}): {}",
                    a.reason.as_str(),
                    a.corrected_content.as_str()
                );
                for id in ids {
                    if let Some((_, resource)) = self.resources.iter_mut().find(|(r, _)| *r == id) {
                        let takes_notes = matches!(
                            resource["resourceType"].as_str(),
                            Some(
                                "Observation"
                                    | "MedicationAdministration"
                                    | "MedicationRequest"
                                    | "Condition"
                            )
                        );
                        if takes_notes {
                            let note = json!({ "time": instant(entry.recorded_at), "text": text });
                            match resource.get_mut("note").and_then(Value::as_array_mut) {
                                Some(notes) => notes.push(note),
                                None => resource["note"] = json!([note]),
                            }
                        }
                    }
                    self.target(seq, id);
                }
            }
            other => {
                if let Some(h) = held(other) {
                    self.encounter(entry, &h);
                }
                if let ClientEvent::IntakeRecorded(i) = other {
                    self.diagnoses(entry, &i.diagnoses, &i.therapist);
                }
                if let ClientEvent::ExplorationRecorded(x) = other {
                    let encounter = self.encounter_id(seq);
                    if let Some(dose) = &x.administration {
                        self.administration(
                            entry,
                            dose,
                            x.prescription.as_ref(),
                            &x.therapist,
                            &encounter,
                        );
                    }
                    let before_at = x
                        .administration
                        .as_ref()
                        .map_or(x.span.start(), |d| d.given_at);
                    let (sys, dia) = (x.bp_before.systolic(), x.bp_before.diastolic());
                    self.blood_pressure(
                        entry,
                        "blood-pressure-before",
                        "Blood pressure before the dose",
                        (sys, dia),
                        before_at,
                        &x.therapist,
                        &encounter,
                    );
                    let (sys, dia) = (x.bp_after.systolic(), x.bp_after.diastolic());
                    self.blood_pressure(
                        entry,
                        "blood-pressure-after",
                        "Blood pressure after the dose, at discharge",
                        (sys, dia),
                        x.discharged_at,
                        &x.therapist,
                        &encounter,
                    );
                }
            }
        }
    }

    fn encounter(&mut self, entry: &RecordEntry, h: &Held<'_>) {
        let id = self.encounter_id(entry.sequence);
        let therapist = self.practitioner(h.therapist);
        let mut encounter = json!({
            "resourceType": "Encounter",
            "id": id,
            "identifier": [{
                "system": KAPCHART_SESSION,
                "value": format!("{}/{}", self.client, h.session)
            }],
            "status": "finished",
            "class": coding(V3_ACT_CODE, "AMB", "ambulatory"),
            "type": [{ "text": session_label(h.kind) }],
            "subject": self.patient(),
            "participant": [{
                "type": [concept(V3_PARTICIPATION, "PPRF", "primary performer")],
                "individual": therapist
            }],
            "period": { "start": instant(h.span.start()), "end": instant(h.span.end()) }
        });
        if self.has_organization() {
            encounter["serviceProvider"] = reference(&Self::organization_id());
        }
        self.add(entry.sequence, id, encounter);
    }

    /// A Condition per diagnosis of an intake: an encounter diagnosis in
    /// ICD-10-CM, recorded by the therapist at the intake's Encounter.
    fn diagnoses(&mut self, entry: &RecordEntry, codes: &[Icd10Code], therapist: &UserId) {
        let encounter = self.encounter_id(entry.sequence);
        for (i, code) in codes.iter().enumerate() {
            let id = self.id(entry.sequence, &format!("condition-{}", i + 1));
            let recorder = self.practitioner(therapist);
            let condition = json!({
                "resourceType": "Condition",
                "id": id,
                "category": [concept(
                    CONDITION_CATEGORY,
                    "encounter-diagnosis",
                    "Encounter Diagnosis"
                )],
                "code": {
                    "coding": [{ "system": ICD10_CM, "code": code.as_str() }],
                    "text": code.as_str()
                },
                "subject": self.patient(),
                "encounter": reference(&encounter),
                "recordedDate": instant(entry.recorded_at),
                "recorder": recorder
            });
            self.add(entry.sequence, id, condition);
        }
    }

    fn medication_request(&mut self, entry: &RecordEntry, p: &kapchart_domain::PrescriptionIssued) {
        let seq = entry.sequence;
        let id = self.request_id(seq);
        let Drug::Ketamine = p.drug;
        // The dose ordered now: the last adjustment's, else the starting dose.
        let ordered = self
            .entries
            .iter()
            .rev()
            .find_map(|e| match &e.event {
                ClientEvent::DoseAdjusted(d) if d.prescription == p.prescription => Some(d.to),
                _ => None,
            })
            .unwrap_or(p.dosing.starting());
        let superseded = self.entries.iter().any(|e| {
            matches!(&e.event, ClientEvent::PrescriptionIssued(q)
                if q.supersedes.as_ref() == Some(&p.prescription))
        });
        let discharged = self
            .entries
            .iter()
            .any(|e| matches!(e.event, ClientEvent::ClientDischarged(_)));
        let status = if superseded || discharged {
            "stopped"
        } else {
            "active"
        };
        let prescriber = self.practitioner(&p.prescriber);
        let mut request = json!({
            "resourceType": "MedicationRequest",
            "id": id,
            "identifier": [{
                "system": KAPCHART_PRESCRIPTION,
                "value": format!("{}/{}", self.client, p.prescription)
            }],
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": ketamine(),
            "subject": self.patient(),
            "authoredOn": instant(p.decision.decided_at),
            "requester": prescriber,
            "dosageInstruction": [{
                "text": p.instructions.as_str(),
                "route": route(Route::Sublingual),
                "doseAndRate": [{
                    "type": concept(
                        "http://terminology.hl7.org/CodeSystem/dose-rate-type",
                        "ordered",
                        "Ordered"
                    ),
                    "doseQuantity": milligrams(ordered)
                }],
                "maxDosePerAdministration": milligrams(p.dosing.max())
            }],
            "dispenseRequest": {
                "validityPeriod": { "start": date(p.valid.from()), "end": date(p.valid.until()) }
            },
            "note": [{
                "text": format!(
                    "Doses {}–{} mg, starting at {} mg, changed by at most {} mg from one dose to the next; {} exploration sessions authorized.",
                    p.dosing.min().get(),
                    p.dosing.max().get(),
                    p.dosing.starting().get(),
                    p.dosing.max_step().get(),
                    p.authorized_sessions.get()
                )
            }]
        });
        if let Some(prior) = p
            .supersedes
            .as_ref()
            .and_then(|s| self.prescriptions.get(s))
        {
            request["priorPrescription"] = reference(&self.request_id(*prior));
        }
        self.add(seq, id, request);
    }

    fn administration(
        &mut self,
        entry: &RecordEntry,
        dose: &Administration,
        prescription: Option<&PrescriptionId>,
        therapist: &UserId,
        encounter: &str,
    ) {
        let id = self.id(entry.sequence, "medication-administration");
        let Drug::Ketamine = dose.drug;
        let performer = self.practitioner(therapist);
        let mut administration = json!({
            "resourceType": "MedicationAdministration",
            "id": id,
            "contained": [{
                "resourceType": "Medication",
                "id": "ketamine",
                "code": ketamine(),
                "batch": { "lotNumber": dose.lot_number.as_str() }
            }],
            "status": "completed",
            "medicationReference": { "reference": "#ketamine" },
            "subject": self.patient(),
            "context": reference(encounter),
            "effectiveDateTime": instant(dose.given_at),
            "performer": [{ "actor": performer }],
            "dosage": {
                "route": route(dose.route),
                "dose": milligrams(dose.dose)
            }
        });
        if let Some(at) = prescription.and_then(|p| self.prescriptions.get(p)) {
            administration["request"] = reference(&self.request_id(*at));
        }
        self.add(entry.sequence, id, administration);
    }

    #[allow(clippy::too_many_arguments)]
    fn blood_pressure(
        &mut self,
        entry: &RecordEntry,
        kind: &str,
        label: &str,
        (systolic, diastolic): (u16, u16),
        at: DateTime<Utc>,
        therapist: &UserId,
        encounter: &str,
    ) {
        let id = self.id(entry.sequence, kind);
        let performer = self.practitioner(therapist);
        let observation = json!({
            "resourceType": "Observation",
            "id": id,
            "status": "final",
            "category": [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
            "code": {
                "coding": [coding(LOINC, LOINC_BP_PANEL, "Blood pressure panel with all children optional")],
                "text": label
            },
            "subject": self.patient(),
            "encounter": reference(encounter),
            "effectiveDateTime": instant(at),
            "performer": [performer],
            "component": [
                {
                    "code": concept(LOINC, LOINC_SYSTOLIC, "Systolic blood pressure"),
                    "valueQuantity": mm_hg(systolic)
                },
                {
                    "code": concept(LOINC, LOINC_DIASTOLIC, "Diastolic blood pressure"),
                    "valueQuantity": mm_hg(diastolic)
                }
            ]
        });
        self.add(entry.sequence, id, observation);
    }

    /// The Provenance of one entry: the resources made from it, who, when,
    /// and the entry itself by its chain hash. None when the entry went
    /// into no resource.
    fn provenance(&mut self, entry: &RecordEntry) -> Option<(String, Value)> {
        let targets = self.targets.get(&entry.sequence)?.clone();
        if targets.is_empty() {
            return None;
        }
        let id = self.id(entry.sequence, "provenance");
        let who = self.who(&entry.actor.id, entry.actor.role);
        let mut entities = vec![json!({
            "role": "source",
            "what": {
                "identifier": self.chain_entry(entry),
                "display": format!("{} (entry {})", entry.event.type_name(), entry.sequence)
            }
        })];
        let (code, display) = match &entry.event {
            ClientEvent::EntryAmended(a) => {
                if let Some(amended) = self.entries.iter().find(|e| e.sequence == a.entry) {
                    entities.push(json!({
                        "role": "revision",
                        "what": {
                            "identifier": self.chain_entry(amended),
                            "display": format!("{} (entry {})", amended.event.type_name(), amended.sequence)
                        }
                    }));
                }
                ("UPDATE", "revise")
            }
            ClientEvent::ClientRegistered(_)
            | ClientEvent::PrescriptionIssued(_)
            | ClientEvent::ConsentRecorded(_)
            | ClientEvent::OutcomeMeasureRecorded(_)
            | ClientEvent::IntakeRecorded(_)
            | ClientEvent::PreparationRecorded(_)
            | ClientEvent::ExplorationRecorded(_)
            | ClientEvent::IntegrationRecorded(_)
            | ClientEvent::OngoingCareRecorded(_) => ("CREATE", "create"),
            _ => ("UPDATE", "revise"),
        };
        let mut provenance = json!({
            "resourceType": "Provenance",
            "id": id,
            "target": targets.iter().map(|t| reference(t)).collect::<Vec<_>>(),
            "occurredDateTime": instant(entry.event.decision().decided_at),
            "recorded": instant(entry.recorded_at),
            "activity": concept(V3_DATA_OPERATION, code, display),
            "agent": [{
                "type": concept(PROVENANCE_AGENT_TYPE, "author", "Author"),
                "role": [{ "text": entry.actor.role.as_str() }],
                "who": who
            }],
            "entity": entities
        });
        if let ClientEvent::EntryAmended(a) = &entry.event {
            provenance["reason"] = json!([{ "text": a.reason.as_str() }]);
        }
        Some((id, provenance))
    }

    fn audit_event(&mut self, a: &AccessLogEntry) -> (String, Value) {
        let id = uuid_of(&format!("access/{}", a.sequence));
        let action = match a.action {
            AccessAction::Add => "C",
            AccessAction::Change => "U",
            AccessAction::Query
            | AccessAction::Print
            | AccessAction::Copy
            | AccessAction::Export => "R",
        };
        let mut subtype = vec![coding(
            KAPCHART_ACCESS_ACTION,
            a.action.as_str(),
            a.action.as_str(),
        )];
        if a.action == AccessAction::Export {
            subtype.push(coding(DICOM, "110106", "Export"));
        }
        let who = self.who(&a.user, a.role);
        let mut details = Vec::new();
        if !a.categories.is_empty() {
            details.push(json!({ "type": "categories", "valueString": a.categories.join(" ") }));
        }
        if !a.source.trim().is_empty() {
            details.push(json!({ "type": "source", "valueString": a.source }));
        }
        let mut patient_entity = Map::new();
        patient_entity.insert("what".into(), self.patient());
        patient_entity.insert("type".into(), coding(AUDIT_ENTITY_TYPE, "1", "Person"));
        patient_entity.insert("role".into(), coding(AUDIT_OBJECT_ROLE, "1", "Patient"));
        if !details.is_empty() {
            patient_entity.insert("detail".into(), Value::Array(details));
        }
        let mut source = json!({
            "observer": { "display": "kapchart" },
            "type": [coding(AUDIT_SOURCE_TYPE, "4", "Application Server")]
        });
        if let Some(identity) = self.settings.identity() {
            source["site"] = json!(identity.name.as_str());
        }
        let mut event = json!({
            "resourceType": "AuditEvent",
            "id": id,
            "type": coding(DICOM, "110110", "Patient Record"),
            "subtype": subtype,
            "action": action,
            "recorded": instant(a.at),
            "outcome": "0",
            "agent": [{
                "role": [{ "text": a.role.as_str() }],
                "who": who,
                "requestor": true
            }],
            "source": source,
            "entity": [
                Value::Object(patient_entity),
                {
                    "what": {
                        "identifier": {
                            "system": KAPCHART_ACCESS_ENTRY,
                            "value": format!("{}/{}", a.sequence, a.hash.to_hex())
                        }
                    },
                    "type": coding(AUDIT_ENTITY_TYPE, "2", "System Object"),
                    "description": "the access log's entry"
                }
            ]
        });
        if !a.purpose.trim().is_empty() {
            event["purposeOfEvent"] = json!([{ "text": a.purpose }]);
        }
        (id, event)
    }
}
