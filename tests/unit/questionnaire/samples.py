"""Sample files for the questionnaire engine tests."""

DATASET = """\
schema: vendorcheck/country-groups@1
id: country_groups
version: "2026-01-28"
entries:
  - {code: FR, group: eea, name: France}
  - {code: NO, group: eea, name: Norway}
  - {code: CH, group: adequate, name: Switzerland}
  - {code: US, group: adequate_partial, name: United States, decision: "(EU) 2023/1795",
     decision_date: "2023-07-10", condition: {en: DPF only, fr: DPF seulement}}
"""

BASE = """\
schema: vendorcheck/questionnaire@1
id: demo
version: 1.0.0
status: draft
default_locale: en
locales: [en, fr]
title: {en: Demo, fr: Démo}
reference_data: [country_groups@2026-01-28]
references:
  gdpr: {title: {en: GDPR, fr: RGPD}, url: "https://eur-lex.europa.eu/eli/reg/2016/679/oj"}
categories:
  - {id: contract, weight: 2, label: {en: Contract, fr: Contrat}}
  - {id: security, weight: 1, label: {en: Security, fr: Sécurité}}
  - {id: transfers, weight: 1, label: {en: Transfers, fr: Transferts}}
sections:
  - id: main
    title: {en: Main, fr: Principal}
    items:
      - {id: has_dpa, type: yes_no, category: contract, points: 2, required: true,
         refs: ["gdpr:28.3"], label: {en: DPA?, fr: Contrat ?}}
      - {id: audits, type: yes_no, category: contract, na_allowed: true, required: true,
         label: {en: Audits?, fr: Audits ?}}
      - {id: hours, type: number, category: security, min: 0, label: {en: Hours, fr: Heures},
         bands: [{max: 24, points: 3}, {max: 72, points: 1}]}
      - id: measures
        type: multi_choice
        category: security
        max_points: 3
        exclusive: [none]
        label: {en: Measures, fr: Mesures}
        options:
          - {value: mfa, points: 2, label: {en: MFA, fr: MFA}}
          - {value: enc, points: 2, label: {en: Encryption, fr: Chiffrement}}
          - {value: none, points: 0, label: {en: None, fr: Aucune}}
      - {id: uses_sub, type: yes_no, required: true, label: {en: Subs?, fr: Sous-traitants ?}}
      - id: subs
        type: table
        visible_if: "uses_sub == 'yes'"
        required: true
        max_rows: 3
        unique: [name]
        label: {en: Subs, fr: Sous-traitants}
        columns:
          - {id: name, type: text, required: true, label: {en: Name, fr: Nom}}
          - {id: country, type: country, required: true, label: {en: Country, fr: Pays}}
          - {id: tool, type: single_choice, required: true,
             visible_if: "not in_group(row.country, 'eea')
               and not in_group(row.country, 'adequate')",
             label: {en: Tool, fr: Outil},
             options: [{value: scc, label: {en: SCC, fr: CCT}},
                       {value: none, label: {en: None, fr: Aucun}}]}
      - {id: contact, type: email, label: {en: Email, fr: Courriel}}
      - {id: site, type: url, label: {en: Site, fr: Site}}
      - {id: since, type: date, min: "2000-01-01", label: {en: Since, fr: Depuis}}
      - {id: hq, type: country, label: {en: HQ, fr: Siège}}
      - {id: regions, type: country_list, label: {en: Regions, fr: Régions}}
      - {id: notes, type: long_text, max_length: 20, label: {en: Notes, fr: Notes}}
      - {id: name, type: text, label: {en: Name, fr: Nom}}
      - {id: docs, type: file, max_files: 2, label: {en: Docs, fr: Documents}}
      - {id: sign, type: attestation, label: {en: Sign, fr: Signer},
         statement: {en: I agree, fr: J'accepte}}
      - {id: intro_note, type: note, body: {en: Hello, fr: Bonjour}}
computed:
  - {id: tools_ok, expr: "all(subs, row.tool == null or row.tool != 'none')", category: transfers,
     points_if_true: 2}
findings:
  - {id: no_tool, severity: critical, when: "any(subs, row.tool == 'none')", refs: ["gdpr:46"],
     title: {en: No transfer tool, fr: Pas d'outil},
     remediation: {en: Sign SCCs, fr: Signer les CCT},
     due_days: 30}
  - {id: no_dpa, severity: high, when: "has_dpa == 'no'", title: {en: No DPA, fr: Pas de contrat}}
tiers:
  - {id: unacceptable, when: "findings('critical') > 0", label: {en: U, fr: U}}
  - {id: high, when: "score() < 60 or findings('high') >= 2", label: {en: H, fr: H}}
  - {id: medium, when: "score() < 80 or findings('high') > 0", label: {en: M, fr: M}}
  - {id: low, when: "true", label: {en: L, fr: L}}
tests:
  - name: us_without_tool
    answers: {has_dpa: "yes", uses_sub: "yes", subs: [{name: Acme, country: US, tool: none}]}
    expect: {tier: unacceptable, findings: [no_tool]}
  - name: norway_needs_no_tool
    answers: {has_dpa: "yes", audits: "yes", hours: "12", measures: [mfa, enc], uses_sub: "yes",
              subs: [{name: Acme, country: NO}]}
    expect: {tier: low, findings_exclude: [no_tool], score_min: 100}
"""
