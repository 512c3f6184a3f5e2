//! Word lists for the sample practice. Every person is fictional: names are
//! drawn from two short lists and combined at random.

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Harper", "Rowan", "Elena", "Marcus",
    "Priya", "Tomas", "Ingrid", "Darnell", "Leila", "Mateo", "Sofia", "Noah", "Imani", "Felix",
    "Hana", "Owen", "Naomi", "Ravi", "Clara", "Elliot", "Yara", "Gideon", "Maren", "Idris",
    "Talia", "Caleb", "Noor", "Simone", "Arjun", "Beatrix", "Desmond", "Lucia", "Wren", "Kenji",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Ashdown",
    "Brightwater",
    "Calloway",
    "Dunmore",
    "Ellery",
    "Fairbanks",
    "Galloway",
    "Hartwell",
    "Ingleby",
    "Jessop",
    "Kestrel",
    "Lockridge",
    "Marlow",
    "Northcott",
    "Oakhurst",
    "Penhallow",
    "Quarrington",
    "Redfern",
    "Stirling",
    "Thornbury",
    "Underhill",
    "Vantongeren",
    "Whitlock",
    "Yardley",
    "Zellner",
    "Blackwood",
    "Corliss",
    "Everhart",
    "Fenwick",
    "Holloway",
    "Larkspur",
    "Merriweather",
    "Nettleton",
    "Ostrander",
];

/// Therapists' user ids, in the order the practice hires them.
pub(crate) const THERAPISTS: &[&str] = &[
    "t-rivera",
    "t-okafor",
    "t-lindqvist",
    "t-nakamura",
    "t-haddad",
    "t-moreau",
    "t-kowalski",
    "t-osei",
    "t-brennan",
    "t-iyer",
    "t-castillo",
    "t-novak",
];

/// Prescribers' user ids.
pub(crate) const PRESCRIBERS: &[&str] = &["rx-chen", "rx-patel"];

/// Front desk user ids.
pub(crate) const FRONT_DESK: &[&str] = &["fd-jones", "fd-garcia"];

pub(crate) const INTAKE_DEPRESSION: &[&str] = &[
    "Recurrent depressive episodes since early adulthood. Two adequate SSRI trials and one SNRI without remission; currently on sertraline 100 mg. Denies active suicidal ideation; protective factors: partner, children, work. Goals: less rumination, re-engage with friends and running.",
    "Depression for six years with anhedonia, poor sleep and low energy. Partial response to bupropion plus psychotherapy. Passive thoughts of death in the past, none current; safety plan reviewed. Goals: return to full-time work, feel connected again.",
    "Moderate recurrent depression following a divorce and job loss; three medication trials with side effects or little benefit. No history of mania or psychosis. Good insight, motivated, supportive sibling nearby.",
    "Severe depressive episode, first lifetime, persisting nine months despite escitalopram and weekly CBT. Withdrawn, tearful, sleeping 11 hours. No psychotic features. Family history of depression (mother).",
];

pub(crate) const INTAKE_PTSD: &[&str] = &[
    "Chronic PTSD after a motor vehicle collision four years ago: nightmares, hypervigilance, avoids driving on highways. Prior trauma-focused CBT with partial benefit. Comorbid depressive symptoms. No psychosis or mania.",
    "PTSD related to childhood trauma, with intrusive memories, emotional numbing and startle. EMDR helped somewhat. Stable housing and work; no current substance misuse. Interested in KAP to soften defenses in therapy.",
    "Combat-related PTSD with nightmares and irritability; sleep 4–5 hours. Prazosin tried. Connected with veteran peer group. No suicidal ideation; firearms stored off-site per safety plan.",
];

pub(crate) const INTAKE_NOT_SUITABLE: &[&str] = &[
    "Reports a recent episode of elevated mood, decreased need for sleep and spending sprees; family history of bipolar I. KAP not indicated at this time; referred for psychiatric evaluation of a bipolar spectrum disorder.",
    "Daily heavy alcohol use with morning drinking; declines to reduce before treatment. KAP not suitable while use continues; referred to the addiction medicine clinic and offered re-assessment in six months.",
    "History of a brief psychotic episode two years ago. Ketamine is contraindicated with a psychosis history; continuing care with current psychiatrist recommended.",
];

pub(crate) const MEDICAL_CLEARED: &[&str] = &[
    "BP 124/78, HR 72, BMI 26. No cardiovascular disease, no uncontrolled hypertension, no history of psychosis, not pregnant. Current medications reviewed; no interactions of concern. Cleared for sublingual ketamine.",
    "BP 118/76, HR 64. Labs within normal limits (CMP, CBC). No liver disease, no interstitial cystitis, no substance use disorder. Cleared.",
    "BP 132/84 (white-coat component likely; home readings 120s/70s). No cardiac history; ECG normal sinus rhythm. Cleared; monitor pre-dose BP.",
    "BP 121/80, HR 70. Mild asthma, well controlled. Lamotrigine reviewed: may blunt ketamine effect, discussed. Cleared.",
];

pub(crate) const MEDICAL_NOT_CLEARED: &[&str] = &[
    "BP 168/102 and 164/100 on repeated readings: uncontrolled hypertension. Not cleared for ketamine until blood pressure is controlled; referred to primary care.",
    "Reports a history of increased intracranial pressure requiring a shunt revision last year. Not a candidate for ketamine.",
    "Currently pregnant (second trimester). Ketamine is not appropriate; re-evaluate after delivery and breastfeeding if still indicated.",
];

pub(crate) const MEDICAL_REASSESS_FIRST: &str = "BP 158/98 at evaluation with home readings in the 150s. Not cleared today; amlodipine started by primary care, re-evaluate in 4–6 weeks.";
pub(crate) const MEDICAL_REASSESS_SECOND: &str = "Re-evaluation: BP 126/80 on amlodipine 5 mg, home log in range for three weeks. Cleared for sublingual ketamine.";

pub(crate) const INSTRUCTIONS: &[&str] = &[
    "Sublingual ketamine lozenge: hold under the tongue without swallowing for 15 minutes, then spit. Dosing only in office with the therapist present; no driving until the next day.",
    "Sublingual lozenge, in-office administration only. Fast 4 hours before dosing. Ondansetron 4 mg ODT available for nausea. No driving for 24 hours.",
];

pub(crate) const CONSENT_FORMS: &[&str] = &[
    "KAP informed consent v3 (2024)",
    "Ketamine-Assisted Psychotherapy consent and financial agreement, rev. 3",
];

pub(crate) const INTENTIONS: &[&str] = &[
    "Loosen the grip of self-criticism; feel more at ease with my family.",
    "Understand the grief I have been avoiding since my father died.",
    "Feel safe in my body again; drive without panic.",
    "Find some hope and energy to return to work.",
    "Stop ruminating at night; reconnect with music and friends.",
];

pub(crate) const AFTERCARE: &[&str] = &[
    "Partner drives home; quiet evening, journaling, no alcohol; integration call if needed.",
    "Sister collects after sessions; rest at home, walk the next morning, journal prompts provided.",
    "Rideshare home arranged in advance; roommate present in the evening; crisis line numbers on the fridge.",
];

pub(crate) const PREP_NOTES: &[&str] = &[
    "Reviewed what to expect: onset, dissociation, nausea, the role of music and eyeshades. Practised a grounding breath. Client's questions about dose answered.",
    "Discussed intentions and fears (losing control). Agreed on a hand signal for support. Safety and aftercare plan confirmed.",
    "Second preparation: explored ambivalence about medication; rehearsed returning attention to breath. Ready to begin.",
];

pub(crate) const OBSERVATIONS: &[&str] = &[
    "Onset at about 15 minutes. Eyeshades and music; quiet, occasional tears around 40 minutes. Reoriented by 90 minutes; calm, steady gait at discharge.",
    "Mild dissociation, spoke about childhood home and a sense of spaciousness. No distress. Oriented and talkative by the end; ate a snack before leaving.",
    "Deeper experience than last session; brief anxiety at onset settled with breathing. Reflective afterwards, described feeling 'less heavy'.",
    "Lighter effect at this dose; relaxed, some imagery, no emotional breakthrough. Wants to discuss an increase with the prescriber.",
    "Strong emotional release about the accident, then quiet. Grounded with feet on the floor and a warm blanket. Stable vitals throughout.",
];

pub(crate) const INTEGRATION_NOTES: &[&str] = &[
    "Integrated imagery of the childhood home: linked to a longing for safety. Client noticed fewer critical thoughts since the session. Homework: short daily walk without phone.",
    "Discussed the anxiety at onset and what helped. Sleep improved two nights. Planned a conversation with partner about household roles.",
    "Client reports mood 'lighter' for three days, then dipped. Normalised; explored meaning of the release. Journaling prompts given.",
    "Reviewed insights about grief; wrote a letter to father in session. PHQ-9 trend discussed. Wants to continue at the same dose.",
];

pub(crate) const CARE_NOTES: &[&str] = &[
    "Maintenance session. Mood stable, using grounding and journaling. Discussed signs of relapse and the plan if they appear.",
    "Work stress higher this month; no return of anhedonia. Reviewed integration themes; client practising self-compassion exercises.",
    "Steady improvement; back to running twice a week. Considering a booster exploration if symptoms return.",
    "Brief dip after an anniversary; coped without crisis. Reinforced supports; spacing sessions to monthly.",
];

pub(crate) const DOSE_UP_REASONS: &[&str] = &[
    "Tolerated well with a modest depth of experience; titrate up one step.",
    "No adverse effects, limited effect at the current dose; increase as planned.",
    "Good tolerance and BP stable; client and therapist agree a deeper session may help.",
];

pub(crate) const DOSE_DOWN_REASON: &str =
    "Nausea and vomiting at the last session; reduce one step and pre-medicate with ondansetron.";

pub(crate) const DOSE_TOO_BIG_REASON: &str =
    "Client asks for a much stronger effect after a light session.";

pub(crate) const TOO_SOON_REASON: &str = "Client travels for work for two weeks from next Monday; prescriber and therapist agreed a six-day interval this once.";

pub(crate) const LATE_REASONS: &[&str] = &[
    "Client was in bed with influenza; the earliest integration session after recovery.",
    "Therapist on sick leave that week; no other therapist knows the client; earliest slot on return.",
];

pub(crate) const LATE_AUTO_REASON: &str =
    "No earlier integration session was available with the client's therapist.";

pub(crate) const CANCEL_NOTES: &[&str] = &[
    "Client has a fever; rebook next week.",
    "Childcare fell through; client asked to move the session.",
    "Client's ride home cancelled; cannot attend without a companion.",
];

pub(crate) const NOT_DOSED_BP: &str = "Pre-dose BP 168/104 and 166/102 after rest; prescriber advised not to dose today. Session used for preparation-style work; rebooked.";
pub(crate) const NOT_DOSED_ILL: &str = "Client arrived with a cold and sinus congestion; lozenge absorption and comfort doubtful. Not dosed; rebooked.";

pub(crate) const ADVERSE: &[(&str, u64)] = &[
    (
        "Nausea at about 30 minutes, settled with ondansetron 4 mg ODT.",
        0,
    ),
    (
        "Brief dizziness on standing at discharge; resolved after sitting 10 minutes.",
        0,
    ),
    (
        "Transient BP elevation to 156/94 at 30 minutes; 138/86 at 60 minutes without intervention.",
        0,
    ),
    (
        "Anxiety and a feeling of unreality at onset lasting about 15 minutes; talked down, no medication.",
        1,
    ),
    (
        "Vomited once at 45 minutes; ondansetron given; comfortable afterwards.",
        1,
    ),
];

pub(crate) const EXTERNAL_PROVIDER: &[&str] = &[
    "Harbor Infusion Center (affiliate)",
    "Northside Ketamine Clinic (affiliate)",
];

pub(crate) const DISCHARGE_NOT_SUITABLE: &[&str] = &[
    "Assessment found KAP not suitable at this time. Findings and alternatives discussed with the client; referral letter sent. Welcome to be re-assessed if circumstances change.",
    "Not suitable for ketamine treatment after assessment. Care returned to the referring clinician with recommendations.",
];

pub(crate) const DROPOUT_SUMMARIES: &[&str] = &[
    "Client chose to pause treatment after relocating for work; remaining sessions cancelled. Summary and outcome scores sent to the new provider with consent.",
    "Client decided to stop after a partial response; prefers to continue talk therapy only. No adverse outcomes; may return.",
];

pub(crate) const BP_PROCEED_REASON: &str = "Pre-dose reading above the practice threshold; the prescriber's authorization for this session is on the record. Rechecked at 40 minutes.";
pub(crate) const REFERRAL_NOTE: &str = "Referred for the medical evaluation before ketamine-assisted psychotherapy: please evaluate and, if cleared, prescribe sublingual ketamine.";
pub(crate) const BP_OVERRIDE_REASON: &str = "Prescriber consulted by phone: client asymptomatic, no headache or chest pain; repeat reading lower after 10 minutes of rest. Proceed with the ordered dose and recheck at 40 minutes.";
