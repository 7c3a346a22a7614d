"""A tiny hand-made firm whose figures are known by heart: shared by tests and docs.

Cabinet Exemple: a firm (F), two regions (R1 Île-de-France, R2 Hauts-de-France), an
agency in each (A1 Paris, A2 Lille), a team under each agency (T1 Audit Paris,
T2 Audit Lille). Its figures, hand-computed, are written in ``tests/test_figures.py``
and in docs/metrics.md's worked example.

Viewers: ``dir`` (director, firm-wide group), ``part1`` (partner, R1 group, member of the
confidential group), ``part2`` (partner in Lille whose group grants the whole firm but
whose function caps him at his region), ``man1`` (manager, validator without any group),
``man2`` (manager, not validator), ``staff1`` (staff), ``gone`` (inactive partner).

D12 is a prospect of Lille given up in 2024 who came back in 2026: an offer signed and
another refused this year on the deal abandoned two years ago (docs/metrics.md counts both).
It is confidential (G_LILLE, whose only member is ``part2``): only ``part2`` sees it.
"""

from __future__ import annotations

import pandas as pd

from .schema import TABLES


def frame(table: str, rows: list[tuple]) -> pd.DataFrame:
    """A canonical frame of ``table`` from tuples in contract column order (dates as ISO text)."""
    spec = TABLES[table]
    width = len(spec.columns)  # trailing optional columns may be left out (None)
    rows = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    df = pd.DataFrame(rows, columns=list(spec.column_names), dtype=object)
    for col in spec.columns:
        if col.type == "date":
            df[col.name] = pd.to_datetime(df[col.name], format="%Y-%m-%d").astype("datetime64[s]")
        elif col.type == "bool":
            df[col.name] = df[col.name].astype(bool)
        elif col.type == "int":
            df[col.name] = df[col.name].astype("int64")
        else:
            df[col.name] = df[col.name].astype(object).where(df[col.name].notna(), None)
    return df


def sample_firm() -> dict[str, pd.DataFrame]:
    """The nine canonical frames of Cabinet Exemple."""
    n = None
    return {
        "org_units": frame("org_units", [
            ("F", "Cabinet Exemple", "firm", n),
            ("R1", "Île-de-France", "region", "F"),
            ("R2", "Hauts-de-France", "region", "F"),
            ("A1", "Paris", "agency", "R1"),
            ("A2", "Lille", "agency", "R2"),
            ("T1", "Audit Paris", "team", "A1"),
            ("T2", "Audit Lille", "team", "A2"),
        ]),
        "entities": frame("entities", [("E1", "Exemple Expertise SAS"), ("E2", "Exemple Audit SA")]),
        "collaborators": frame("collaborators", [
            ("C1", "dir", "Claire Directrice", "director", "F", "E1", True, True),
            ("C2", "part1", "Paul Associé", "partner", "A1", "E1", True, True),
            ("C3", "part2", "Pierre Associé", "partner", "A2", "E2", True, True),
            ("C4", "man1", "Marie Manager", "manager", "T1", "E1", True, True),
            ("C5", "man2", "Marc Manager", "manager", "A2", "E2", False, True),
            ("C6", "staff1", "Sophie Collaboratrice", "staff", "T1", n, False, True),
            ("C7", "gone", "Gaston Parti", "partner", "A1", "E1", True, False),
        ]),
        "groups": frame("groups", [("G_FIRM", "Direction"), ("G_R1", "Île-de-France"), ("G_CONF", "Dossiers sensibles"),
                                   ("G_LILLE", "Lille – dossiers réservés")]),
        "group_units": frame("group_units", [("G_FIRM", "F"), ("G_R1", "R1")]),
        "group_members": frame("group_members", [
            ("G_FIRM", "C1"), ("G_R1", "C2"), ("G_CONF", "C2"), ("G_FIRM", "C3"), ("G_R1", "C7"), ("G_LILLE", "C3"),
        ]),
        "deals": frame("deals", [
            # id, name, kind, prospect, unit, partner, manager, client_manager, group, status, created, abandoned, reason
            ("D1", "Audit légal Alpha", "prospect", "Alpha SAS", "T1", "C2", "C4", "C6", n, "open", "2026-02-01", n, n),
            ("D2", "Tenue Beta", "prospect", "Beta SARL", "T1", "C2", "C4", n, n, "open", "2025-11-10", n, n),
            ("D3", "Conseil Gamma", "prospect", "Gamma SCI", "T1", "C2", n, n, n, "open", "2026-06-01", n, n),
            ("D4", "Social Delta", "prospect", "Delta SA", "A2", "C3", "C5", n, n, "abandoned", "2026-03-01", "2026-09-10", "Prix trop élevé"),
            ("D5", "Mission client Epsilon", "client", "Epsilon SAS", "T1", "C2", n, n, n, "open", "2026-01-15", n, n),
            ("D6", "Dossier confidentiel Zeta", "prospect", "Zeta Holding", "T1", n, "C4", n, "G_CONF", "open", "2026-07-01", n, n),
            ("D7", "Juridique Eta", "prospect", "Eta SARL", "T1", "C2", "C4", n, n, "open", "2026-10-01", n, n),
            ("D8", "Audit Theta", "prospect", "Theta SAS", "T1", "C2", n, n, n, "abandoned", "2025-06-01", "2025-12-15", "Concurrent retenu"),
            ("D9", "Tenue Iota", "prospect", "Iota EURL", "A1", "C2", n, n, n, "open", "2025-01-10", n, n),
            ("D10", "Social Kappa", "prospect", "Kappa SAS", "T1", "C2", n, n, n, "open", "2025-12-01", n, n),
            ("D11", "Fiscal Lambda", "prospect", "Lambda SA", "T1", "C2", n, n, n, "open", "2025-12-20", n, n),
            ("D12", "Conseil Mu", "prospect", "Mu SARL", "T2", n, n, n, "G_LILLE", "abandoned", "2024-03-01", "2024-06-30", "Projet reporté"),
        ]),
        "documents": frame("documents", [
            # id, deal, type, template, title, status, created, sent, decided, signatory, entity
            ("X1", "D1", "Lettre de mission", "LM CAC 6 exercices", "CAC Alpha", "signed", "2026-02-05", "2026-02-10", "2026-03-15", "C2", "E1"),
            ("X2", "D1", "Avenant", "Avenant LM", "Avenant Alpha", "signed", "2026-04-01", n, "2026-05-20", "C4", "E2"),
            ("X3", "D2", "Proposition commerciale", "Proposition tenue", "Tenue Beta", "in_progress", "2025-12-01", "2026-01-05", n, "C2", "E1"),
            ("X4", "D2", "Proposition commerciale", "Proposition social", "Social Beta", "refused", "2026-01-10", n, "2026-02-28", "C2", "E1"),
            ("X5", "D4", "Proposition commerciale", n, n, "in_progress", "2026-03-05", n, n, "C3", "E2"),
            ("X6", "D4", "Proposition commerciale", n, n, "cancelled", "2026-03-02", n, "2026-04-01", "C3", "E2"),
            ("X7", "D5", "Lettre de mission", n, n, "signed", "2026-05-01", n, "2026-05-05", "C2", "E1"),
            ("X8", "D6", "Proposition commerciale", n, "Zeta", "in_progress", "2026-11-01", "2026-11-20", n, "C4", "E1"),
            ("X9", "D7", "Lettre de mission", "LM juridique", "Eta", "signed", "2026-10-05", n, "2026-11-29", "C2", "E1"),
            ("X11", "D9", "Lettre de mission", "LM tenue comptable v3", "Iota", "signed", "2025-02-01", n, "2025-02-28", "C2", "E1"),
            ("X12", "D10", "Lettre de mission", n, n, "signed", "2025-12-10", n, "2025-12-31", "C2", "E1"),
            ("X13", "D11", "Lettre de mission", n, n, "signed", "2025-12-20", n, "2026-01-01", "C2", "E1"),
            # created and decided in 2026 on D12, abandoned on 30/06/2024
            ("X14", "D12", "Lettre de mission", "LM conseil", "Mu – retour", "signed", "2026-02-02", n, "2026-04-10", "C3", "E2"),
            ("X15", "D12", "Proposition commerciale", n, "Mu – option", "refused", "2026-05-04", "2026-05-05", "2026-06-15", "C3", "E2"),
        ]),
        "document_lines": frame("document_lines", [
            ("X1", 1, "Commissariat aux comptes", "recurring", 1_200_000),
            ("X1", 2, "Commissariat aux comptes", "one_off", 250_000),
            ("X2", 1, "Audit contractuel", "recurring", 300_000),
            ("X3", 1, "Tenue comptable", "recurring", 300_000),
            ("X3", 2, "Social", "recurring", 200_000),
            ("X4", 1, "Social", "recurring", 200_000),
            ("X5", 1, "Social", "recurring", 150_000),
            ("X6", 1, "Social", "one_off", 50_000),
            ("X7", 1, "Tenue comptable", "recurring", 999_900),
            ("X8", 1, "Conseil fiscal", "recurring", 100_000),
            ("X8", 2, "Juridique", "one_off", 50_000),
            ("X9", 1, "Juridique", "one_off", 80_000),
            ("X11", 1, "Tenue comptable", "recurring", 400_000),
            ("X12", 1, "Social", "recurring", 10_000),
            ("X13", 1, "Conseil fiscal", "recurring", 20_000),
            ("X14", 1, "Conseil", "recurring", 600_000),
            ("X15", 1, "Juridique", "one_off", 70_000),
        ]),
    }
