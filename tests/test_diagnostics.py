"""Spec diagnostics as a user meets them: one small spec per behaviour.

Every code in `CODES` has at least one spec that raises it. Each test checks the
code, its severity, where it points (0-based line and column, as in the LSP),
and that the message says how to fix the problem; most have a counterpart
showing that the fixed spec compiles without a word.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from specloom.spec.compiler import MAX_SPEC_BYTES, CompileResult, compile_spec
from specloom.spec.diagnostics import CODES, Diagnostic

# A small, valid shop. Tests fill the <slots>; new endpoints start at F4.
BASE = textwrap.dedent(
    """\
    # Shop

    <preamble>

    ## Entities

    ### Customer
    - email: email, required, unique
    - name: string, required, max length 80
    - status: enum ACTIVE | BLOCKED, default ACTIVE
    - credit: integer, default 0

    <customer>

    ### Order
    - customer: Customer, required
    - total: decimal(8,2), required, >= 0
    - placed_at: datetime, set on create, read-only

    <order>

    <entities>

    ## Endpoints
    - F1. CRUD /customers
    - F2. POST /orders: place an order
    - F3. GET /orders/{id}: get an order
    <endpoints>

    ## Flows
    <flows>

    ## Rules
    <rules>

    ## Errors
    - An unknown id in the path or in a reference answers 404.
    <errors>
    """
)
SLOTS = ("preamble", "customer", "order", "entities", "endpoints", "flows", "rules", "errors")
DEFAULTS = {"preamble": "Customers place orders."}

# An action whose flow the flow tests write.
BLOCK_ENDPOINT = "- F4. POST /customers/{id}/block: block a customer"
BLOCK_HEADING = "### F4. Block a customer"

# Verbs a message uses to tell the user what to do.
FIX_VERBS = re.compile(
    r"\b(add|drop|remove|rename|change|raise|lower|swap|write|use|give|make|move|keep|merge|"
    r"define|put|choose|delete|replace|widen|narrow|relax|fix)\b",
    re.IGNORECASE,
)


def spec(**parts: str) -> str:
    """The base spec with text put into its slots (each part is dedented)."""
    unknown = set(parts) - set(SLOTS)
    assert not unknown, f"no such slot: {unknown}"
    text = BASE
    for slot in SLOTS:
        part = parts.get(slot, DEFAULTS.get(slot, ""))
        text = text.replace(f"<{slot}>", textwrap.dedent(part).strip("\n"))
    return text


def flow_spec(steps: str, *, endpoints: str = "", **parts: str) -> str:
    """The base spec with the action F4 (POST /customers/{id}/block) and its flow."""
    endpoint_lines = BLOCK_ENDPOINT + "\n" + textwrap.dedent(endpoints).strip("\n")
    flow = BLOCK_HEADING + "\n" + textwrap.dedent(steps).strip("\n")
    return spec(endpoints=endpoint_lines, flows=flow, **parts)


def compiled(source: str | bytes | CompileResult) -> CompileResult:
    return source if isinstance(source, CompileResult) else compile_spec(source)


def diagnostics(source: str | bytes | CompileResult) -> list[Diagnostic]:
    return compiled(source).diagnostics


def listing(found: list[Diagnostic]) -> str:
    return "\n".join(d.format("spec") for d in found) or "(no diagnostics)"


def codes(source: str | bytes | CompileResult) -> list[str]:
    return [d.code for d in diagnostics(source)]


def assert_clean(source: str | bytes | CompileResult) -> CompileResult:
    result = compiled(source)
    assert result.diagnostics == [], listing(result.diagnostics)
    return result


def only(source: str | bytes | CompileResult, code: str) -> Diagnostic:
    """The one diagnostic with `code`."""
    found = diagnostics(source)
    matches = [d for d in found if d.code == code]
    assert len(matches) == 1, f"expected one {code}, got:\n{listing(found)}"
    return matches[0]


def locate(
    text: str, fragment: str, line_with: str | None = None, nth: int | None = None
) -> tuple[int, int]:
    """0-based (line, column) of `fragment` on the line holding `line_with` (or it);
    that line must be the only one, unless `nth` picks one of several."""
    anchor = line_with or fragment
    lines = [i for i, line in enumerate(text.split("\n")) if anchor in line]
    if nth is None:
        assert len(lines) == 1, f"{anchor!r} is on lines {lines}: say which"
        nth = 0
    assert len(lines) > nth, f"{anchor!r} is on lines {lines}"
    line = lines[nth]
    column = text.split("\n")[line].find(fragment)
    assert column >= 0, f"{fragment!r} is not on the line holding {anchor!r}"
    return line, column


def assert_at(
    found: Diagnostic,
    text: str,
    fragment: str,
    line_with: str | None = None,
    nth: int | None = None,
) -> None:
    """The diagnostic's range is exactly `fragment` (which lies on one line)."""
    line, column = locate(text, fragment, line_with, nth)
    start, end = found.range.start, found.range.end
    assert (start.line, start.column) == (line, column), found.format("spec")
    assert (end.line, end.column) == (line, column + len(fragment)), found.format("spec")


def expect(
    text: str,
    code: str,
    at: str,
    *phrases: str,
    line_with: str | None = None,
    nth: int | None = None,
    severity: str | None = None,
) -> Diagnostic:
    """One `code` diagnostic, with its default severity, exactly on `at`, saying `phrases`."""
    found = only(text, code)
    assert found.severity == (severity or CODES[code][0])
    assert_at(found, text, at, line_with, nth)
    for phrase in phrases:
        assert phrase in found.message, found.message
    return found


def tells_how_to_fix(message: str) -> bool:
    return FIX_VERBS.search(message) is not None


def test_the_base_spec_compiles_without_a_word() -> None:
    result = assert_clean(spec())
    assert [e.name for e in result.ir.domain.entities] == ["Customer", "Order"]
    assert_clean(flow_spec("- Set customer.status to BLOCKED."))


def test_every_code_is_exercised_by_this_module_or_the_plan_tests() -> None:
    here = Path(__file__).resolve().parent
    source = (here / "test_diagnostics.py").read_text(encoding="utf-8")
    source += (here / "plan" / "test_dag.py").read_text(encoding="utf-8")  # SL7xx: the plan
    mentioned = set(re.findall(r'"(SL\d{3})"', source))
    assert sorted(set(CODES) - mentioned) == []


def test_every_code_has_a_severity_and_a_title() -> None:
    for code, (severity, title) in CODES.items():
        assert re.fullmatch(r"SL[1-7]\d\d", code)
        assert severity in ("error", "warning", "information", "hint")
        assert title


# --- SL1xx: the document ------------------------------------------------------------


def test_invalid_utf8_is_reported_and_the_rest_still_compiles() -> None:
    data = spec().encode().replace(b"place orders", b"place \xff orders")
    result = compile_spec(data)
    found = only(result, "SL100")
    assert found.severity == "error"
    assert (found.range.start.line, found.range.start.column) == (0, 0)
    assert "save it as UTF-8" in found.message
    assert [e.name for e in result.ir.domain.entities] == ["Customer", "Order"]


def test_nul_bytes_are_reported_as_binary_content() -> None:
    found = only(spec().encode() + b"\x00\x00", "SL100")
    assert found.severity == "error"
    assert "looks binary" in found.message


def test_a_spec_over_the_size_limit_is_refused_with_advice() -> None:
    found = only(b" " * (MAX_SPEC_BYTES + 1), "SL100")
    assert found.severity == "error"
    assert "split it into several specs" in found.message


def test_utf8_with_bom_and_crlf_line_ends_compiles_cleanly() -> None:
    data = b"\xef\xbb\xbf" + spec().replace("\n", "\r\n").encode()
    result = assert_clean(data)
    assert result.ir.name == "Shop"


def test_a_spec_without_entities_has_nothing_to_compile() -> None:
    text = "# Shop notes\n\nWe sell hats to people.\n"
    expect(text, "SL101", "Shop notes", "write one")


def test_an_entities_section_without_entity_headings_has_nothing_to_compile() -> None:
    text = "# Shop\n\n## Entities\n\nWe sell hats.\n"
    expect(text, "SL101", "Shop", "'### Entity' headings")


def test_an_unknown_section_is_reported_on_its_heading() -> None:
    text = spec() + "\n## Deployment\n- Run it on Kubernetes.\n"
    expect(text, "SL102", "Deployment", "nothing under it is interpreted", "the sections are")
    assert len(diagnostics(text)) == 1


def test_a_known_prose_section_is_not_reported() -> None:
    assert_clean(spec() + "\n## Notes\n\nThe shop opens in spring.\n")


def test_a_heading_before_any_section_is_reported() -> None:
    expect(spec(preamble="### Ideas"), "SL103", "Ideas", "put it under one")


def test_a_list_before_any_section_is_not_interpreted() -> None:
    text = spec(preamble="- remember the VAT")
    expect(text, "SL104", "remember the VAT", "a list outside a section", "move it into")


def test_a_line_nested_under_a_field_is_not_interpreted() -> None:
    text = spec(customer="- nickname: string\n  - shown on every invoice")
    expect(text, "SL104", "shown on every invoice", "nested under a field of Customer")


def test_a_paragraph_after_a_flows_steps_is_not_interpreted() -> None:
    text = flow_spec(
        """
        - Set customer.status to BLOCKED.

        Then we phone them.
        """
    )
    expect(text, "SL104", "Then we phone them.", "in flow Block a customer", "only list lines")


def test_a_second_clause_after_a_semicolon_in_a_rule_is_not_interpreted() -> None:
    text = spec(rules="- R1. A customer's credit is never negative; the bank checks it.")
    found = only(text, "SL104")
    line, column = locate(text, "the bank checks it.")
    assert found.range.start.line == line
    assert column - 1 <= found.range.start.column <= column
    assert found.range.end.column == column + len("the bank checks it.")
    assert "state one rule per line" in found.message
    assert compile_spec(text).ir.behaviour.rules[0].id == "R1"


def test_the_half_open_note_after_an_overlap_rule_is_understood() -> None:
    text = spec(
        entities="""
        ### Visit
        - customer: Customer, required
        - starts_at: datetime, required
        - ends_at: datetime, required
        """,
        endpoints="- F4. CRUD /visits",
        rules="- R1. Two visits of the same customer never overlap; one that ends when "
        "another starts does not overlap it.",
    )
    assert_clean(text)


def test_a_prose_paragraph_in_rules_is_never_dropped_silently() -> None:
    text = spec(rules="Orders over 1000 go to a manager for approval.")
    line, _ = locate(text, "Orders over 1000")
    reported = [d for d in diagnostics(text) if d.range.start.line == line]
    assert [d.code for d in reported] in (["SL104"], ["SL105"])


def test_a_requirement_written_as_prose_in_rules_is_flagged() -> None:
    text = spec(rules="Customers must never owe more than 1000.")
    expect(
        text,
        "SL105",
        "Customers must never owe more than 1000.",
        "state it in the structured language",
    )


def test_each_requirement_sentence_of_the_preamble_is_flagged_on_its_own() -> None:
    text = spec(preamble="We sell hats. Every order must be paid within 30 days.")
    expect(text, "SL105", "Every order must be paid within 30 days.", "prose is not compiled")


def test_a_descriptive_preamble_becomes_the_description() -> None:
    result = assert_clean(spec(preamble="Customers place orders.\nWe ship\nworldwide."))
    assert result.ir.description == "Customers place orders. We ship worldwide."


def test_a_code_block_in_an_entity_is_not_interpreted() -> None:
    text = spec(customer="```sql\ncreate table customer (id int);\n```")
    found = only(text, "SL106")
    assert found.severity == "warning"
    first, _ = locate(text, "```sql")
    assert (found.range.start.line, found.range.start.column) == (first, 0)
    assert (found.range.end.line, found.range.end.column) == (first + 2, 3)
    assert "fence block is not interpreted" in found.message


def test_a_block_quote_in_an_entity_is_not_dropped_silently() -> None:
    text = spec(customer="> ask finance about VAT")
    line, _ = locate(text, "> ask finance about VAT")
    found = [d for d in diagnostics(text) if d.range.start.line == line]
    assert [(d.code, d.severity) for d in found] in ([("SL104", "warning")], [("SL106", "warning")])
    assert "not interpreted" in found[0].message


def test_a_fourth_level_heading_in_an_entity_is_not_interpreted() -> None:
    text = spec(customer="#### Notes")
    expect(text, "SL106", "Notes", "heading is not interpreted", line_with="#### Notes")


def test_a_block_that_is_not_interpreted_says_how_to_fix_it() -> None:
    text = spec(customer="```sql\ncreate table customer (id int);\n```")
    assert tells_how_to_fix(only(text, "SL106").message)


def test_a_rule_id_used_twice_is_reported_on_the_second() -> None:
    text = spec(
        rules="""
        - R1. A customer's credit is never negative.
        - R1. An order's total is at most 10000.
        """
    )
    first, _ = locate(text, "R1. A customer's")
    expect(
        text,
        "SL107",
        "R1. An order's total is at most 10000.",
        f"already used on line {first + 1}",
        "give each requirement its own ID",
    )


def test_a_rule_reusing_an_endpoint_id_is_a_duplicate_requirement_id() -> None:
    text = spec(rules="- F2. A customer's credit is never negative.")
    expect(text, "SL107", "F2. A customer's credit is never negative.", "its own ID")


def test_two_flows_for_one_endpoint_are_reported_on_the_second() -> None:
    text = flow_spec(
        """
        - Set customer.status to BLOCKED.

        ### F4. Block again
        - Set customer.status to BLOCKED.
        """
    )
    first, _ = locate(text, BLOCK_HEADING)
    expect(text, "SL107", "F4. Block again", f"(line {first + 1})", "merge the two")


def test_two_endpoints_with_the_same_id_are_reported_on_the_second() -> None:
    text = spec(
        endpoints="""
        - F4. GET /customers/{id}/orders: list a customer's orders
        - F4. GET /orders: list orders
        """
    )
    first, _ = locate(text, "- F4. GET /customers")
    expect(
        text,
        "SL107",
        "F4. GET /orders: list orders",
        f"already used on line {first + 1}",
        "its own ID",
    )


def test_an_endpoint_reusing_a_crud_id_is_reported() -> None:
    text = spec(endpoints="- F1. GET /orders: list orders")
    expect(text, "SL107", "F1. GET /orders: list orders", "its own ID")


def test_a_second_title_is_reported() -> None:
    text = spec() + "\n# Appendix\n"
    expect(text, "SL108", "Appendix", "make this a '##' section or remove it")


# --- SL2xx: entities and fields -------------------------------------------------------


def test_a_misspelt_type_is_unknown_with_a_did_you_mean() -> None:
    text = spec(customer="- age: intger, optional")
    expect(text, "SL201", "intger", "unknown type 'intger'", "did you mean 'integer'")


def test_the_type_aliases_are_known() -> None:
    assert_clean(spec(customer="- age: int\n- vip: bool\n- code: str\n- seen: timestamp"))


def test_a_lower_case_entity_name_as_type_suggests_the_entity() -> None:
    text = spec(order="- buyer: customer, optional")
    expect(text, "SL201", "customer", "did you mean 'Customer'", line_with="- buyer:")


def test_an_enum_in_lower_case_is_an_unknown_type() -> None:
    text = spec(customer="- tier: enum gold | silver")
    expect(text, "SL201", "enum gold | silver", "in capitals separated by '|'")


def test_a_field_without_a_type_is_reported_after_the_colon() -> None:
    text = spec(customer="- nickname:")
    line, column = locate(text, "- nickname:")
    found = only(text, "SL201")
    end = column + len("- nickname:")
    assert (found.range.start.line, found.range.start.column) == (line, end)
    assert "write one after the colon" in found.message


def test_a_second_entity_with_the_same_name_is_a_duplicate() -> None:
    text = spec(entities="### Customer\n- nickname: string")
    first, _ = locate(text, "### Customer", nth=0)
    expect(
        text,
        "SL202",
        "Customer",
        f"already defined on line {first + 1}",
        "merge the two or rename one",
        line_with="### Customer",
        nth=1,
    )


def test_a_second_field_with_the_same_name_is_a_duplicate() -> None:
    text = spec(customer="- email: string")
    first, _ = locate(text, "- email: email")
    expect(
        text,
        "SL203",
        "email: string",
        f"(line {first + 1})",
        "rename or remove one",
        line_with="- email: string",
    )


def test_a_reference_to_a_misspelt_entity_dangles() -> None:
    text = spec(order="- referrer: Custmer, optional")
    expect(
        text,
        "SL204",
        "Custmer",
        "did you mean 'Customer'",
        "define '### Custmer' under Entities",
    )


def test_a_collection_of_an_undefined_entity_dangles() -> None:
    text = spec(order="- lines: list of OrderLine")
    expect(text, "SL204", "list of OrderLine", "'OrderLine' is not an entity of this spec")


def test_an_enum_default_outside_the_enum_is_reported_on_the_default() -> None:
    text = spec(customer="- tier: enum GOLD | SILVER, default GOLDEN")
    expect(text, "SL205", "default GOLDEN", "did you mean 'GOLD'", "its states are: GOLD, SILVER")


def test_an_enum_default_inside_the_enum_is_fine() -> None:
    assert_clean(spec(customer="- tier: enum GOLD | SILVER, default SILVER"))


def test_a_lower_case_enum_default_is_an_enum_default_outside_the_enum() -> None:
    text = spec(customer="- tier: enum GOLD | SILVER, default gold")
    expect(text, "SL205", "default gold", "did you mean 'GOLD'")


def test_a_quoted_enum_default_is_not_rejected_in_favour_of_itself() -> None:
    text = spec(customer='- tier: enum GOLD | SILVER, default "GOLD"')
    found = [d for d in diagnostics(text) if d.code == "SL205"]
    assert all("did you mean 'GOLD'" not in d.message for d in found)


def test_a_length_on_a_number_does_not_fit_the_type() -> None:
    text = spec(customer="- age: integer, max length 3")
    expect(text, "SL206", "age: integer, max length 3", "apply to text fields only")


def test_a_bound_on_a_string_does_not_fit_the_type() -> None:
    text = spec(customer="- nickname: string, >= 3")
    expect(text, "SL206", ">= 3", "bounds apply to numbers, dates and datetimes")


def test_a_number_bound_on_a_date_does_not_fit_the_type() -> None:
    text = spec(customer="- born_on: date, >= 5")
    expect(text, "SL206", ">= 5", "compare it with another field")


def test_a_fractional_bound_on_an_integer_does_not_fit_the_type() -> None:
    text = spec(customer="- age: integer, >= 1.5")
    expect(text, "SL206", ">= 1.5", "bound it by a whole number")


def test_set_on_create_on_a_boolean_does_not_fit_the_type() -> None:
    text = spec(customer="- vip: boolean, set on create")
    expect(text, "SL206", "vip: boolean, set on create", "must be a date or datetime")


def test_an_impossible_decimal_precision_does_not_fit_the_type() -> None:
    text = spec(order="- tax: decimal(40,2)")
    expect(text, "SL206", "decimal(40,2)", "precision is 1 to 38 digits")


def test_a_clock_bound_on_a_number_does_not_fit_the_type() -> None:
    text = spec(customer="- visits: integer, after now")
    expect(text, "SL206", "after now", "only a date or datetime compares with 'now'")


def test_a_bound_against_a_field_of_another_type_does_not_fit() -> None:
    text = spec(customer="- born_on: date, after email")
    expect(text, "SL206", "after email", "cannot be compared with email")


def test_now_as_the_default_of_a_number_does_not_fit() -> None:
    text = spec(customer="- visits: integer, default now")
    expect(text, "SL206", "default now", "'now' is a time")


def test_a_required_collection_does_not_fit_the_type() -> None:
    text = spec(customer="- orders: list of Order, required")
    expect(text, "SL206", "orders: list of Order, required", "takes no 'required'")


def test_a_text_default_on_a_number_does_not_fit_the_type() -> None:
    text = spec(customer='- age: integer, default "ten"')
    expect(text, "SL206", 'default "ten"', "does not fit Customer.age")


def test_a_default_that_does_not_fit_the_type_says_how_to_fix_it() -> None:
    assert tells_how_to_fix(only(spec(customer='- age: integer, default "ten"'), "SL206").message)


def test_constraints_that_fit_their_types_are_fine() -> None:
    assert_clean(
        spec(
            customer="""
            - age: integer, >= 0, <= 150
            - born_on: date, before joined_on
            - joined_on: date, default today
            - code: string, length 4, pattern `^[A-Z]{4}$`
            """
        )
    )


def test_required_and_optional_together_contradict() -> None:
    text = spec(customer="- nickname: string, required, optional")
    expect(text, "SL207", "nickname: string, required, optional", "both required and optional")
    assert "keep one" in only(text, "SL207").message


def test_a_min_length_above_the_max_length_contradicts() -> None:
    text = spec(customer="- code: string, min length 5, max length 3")
    expect(text, "SL207", "code: string, min length 5, max length 3", "no value fits")


def test_equal_min_and_max_length_is_fine() -> None:
    assert_clean(spec(customer="- code: string, min length 3, max length 3"))


def test_contradictory_lengths_say_how_to_fix_them() -> None:
    text = spec(customer="- code: string, min length 5, max length 3")
    assert tells_how_to_fix(only(text, "SL207").message)


def test_bounds_no_value_satisfies_contradict() -> None:
    text = spec(customer="- score: integer, >= 10, <= 5")
    expect(text, "SL207", "score: integer, >= 10, <= 5", "bounds no value satisfies")


def test_strict_bounds_on_one_number_contradict() -> None:
    text = spec(customer="- level: integer, > 5, < 5")
    expect(text, "SL207", "level: integer, > 5, < 5", "bounds no value satisfies")


def test_inclusive_bounds_on_one_number_are_fine() -> None:
    assert_clean(spec(customer="- level: integer, >= 5, <= 5"))


def test_contradictory_bounds_say_how_to_fix_them() -> None:
    assert tells_how_to_fix(only(spec(customer="- score: integer, >= 10, <= 5"), "SL207").message)


def test_strict_bounds_are_described_as_strict() -> None:
    message = only(spec(customer="- level: integer, > 5, < 5"), "SL207").message
    assert "at least 5" not in message
    assert "at most 5" not in message


def test_a_default_below_its_own_bound_contradicts() -> None:
    text = spec(customer="- rank: integer, >= 1, default 0")
    expect(
        text,
        "SL207",
        "default 0",
        "breaks Customer.rank's own constraints",
        "not >= 1",
        line_with="- rank:",
    )


def test_a_default_breaking_its_bounds_says_how_to_fix_it() -> None:
    text = spec(customer="- rank: integer, >= 1, default 0")
    assert tells_how_to_fix(only(text, "SL207").message)


def test_a_default_longer_than_the_max_length_contradicts() -> None:
    text = spec(customer='- code: string, max length 3, default "ABCD"')
    expect(text, "SL207", 'default "ABCD"', "longer than 3 characters")


def test_a_default_not_matching_the_pattern_contradicts() -> None:
    text = spec(customer='- code: string, pattern `^[A-Z]+$`, default "abc"')
    expect(text, "SL207", 'default "abc"', "does not match the pattern")


def test_a_default_within_its_bounds_is_fine() -> None:
    assert_clean(spec(customer="- rank: integer, between 1 and 5, default 1"))


def test_a_required_read_only_field_nobody_sets_contradicts() -> None:
    text = spec(customer="- token: string, required, read-only")
    expect(
        text,
        "SL207",
        "token: string, required, read-only",
        "drop 'required'",
        "give it a default",
    )


def test_a_default_on_a_required_field_is_only_a_warning() -> None:
    text = spec(customer='- nickname: string, required, default "friend"')
    expect(text, "SL207", 'default "friend"', "drop one of them", severity="warning")
    assert compile_spec(text).ok


def test_an_unknown_constraint_lists_the_known_ones() -> None:
    text = spec(customer="- nickname: string, very important")
    expect(text, "SL208", "very important", "the constraints are: required, optional")


def test_a_bound_with_an_unreadable_operand_is_not_understood() -> None:
    text = spec(customer="- age: integer, > lots of")
    expect(text, "SL208", "> lots of", "a bound compares with a number")


def test_a_read_only_state_no_flow_sets_is_unreachable() -> None:
    text = spec(customer="- tier: enum BASIC | GOLD, default BASIC, read-only")
    expect(
        text,
        "SL209",
        "enum BASIC | GOLD",
        "GOLD is never reached",
        "add a flow step 'Set tier to GOLD' or remove the state",
    )


def test_a_read_only_state_a_flow_sets_is_reachable() -> None:
    text = flow_spec(
        "- Set customer.tier to GOLD.",
        customer="- tier: enum BASIC | GOLD, default BASIC, read-only",
    )
    assert_clean(text)


def test_a_read_only_state_a_create_step_sets_is_reachable() -> None:
    text = flow_spec(
        "- Create an Order with customer, total = 0 and kind = GIFT.",
        order="- kind: enum NORMAL | GIFT, default NORMAL, read-only",
    )
    assert_clean(text)


def test_an_invalid_pattern_is_reported_on_the_pattern() -> None:
    text = spec(customer="- code: string, pattern `[a-z`")
    expect(text, "SL210", "pattern `[a-z`", "not a valid regular expression", "Python's syntax")


def test_a_field_line_without_a_colon_is_not_understood() -> None:
    text = spec(customer="- notes list")
    expect(text, "SL211", "notes list", "a field line reads 'name: type, constraints'")


def test_a_collection_whose_entity_does_not_refer_back_has_no_way_back() -> None:
    text = spec(
        customer="- tags: list of Tag",
        entities="### Tag\n- label: string, required",
    )
    expect(text, "SL212", "list of Tag", "add '- customer: Customer, required' to Tag")


def test_a_collection_with_two_ways_back_must_say_which() -> None:
    text = spec(
        customer="- referrals: list of Referral",
        entities="### Referral\n- referrer: Customer, required\n- referee: Customer, required",
    )
    expect(text, "SL212", "list of Referral", "as in 'list of Referral via referrer'")


def test_a_collection_via_a_missing_reference_is_reported() -> None:
    text = spec(
        customer="- referrals: list of Referral via friend",
        entities="### Referral\n- referrer: Customer, required\n- referee: Customer, required",
    )
    expect(
        text,
        "SL212",
        "list of Referral via friend",
        "'via' names one of: referrer, referee",
    )


def test_a_collection_via_one_of_two_references_is_fine() -> None:
    text = spec(
        customer="- referrals: list of Referral via referrer",
        entities="### Referral\n- referrer: Customer, required\n- referee: Customer, required",
    )
    assert_clean(text)


def test_a_field_name_starting_with_a_digit_is_invalid() -> None:
    text = spec(customer="- 2fa: boolean")
    expect(text, "SL213", "2fa", "use letters, digits and underscores")


def test_an_entity_name_with_a_space_is_invalid() -> None:
    text = spec(entities="### Gift card\n- code: string")
    expect(text, "SL213", "Gift card", "write it in CamelCase")


def test_a_field_named_id_is_invalid() -> None:
    text = spec(customer="- id: integer")
    expect(text, "SL213", "id: integer", "remove this field or rename it")


def test_an_entity_without_fields_is_reported() -> None:
    text = spec(entities="### Coupon")
    expect(text, "SL214", "Coupon", "list them as '- name: type, constraints'")


def test_unique_with_a_misspelt_field_is_reported() -> None:
    text = spec(customer="- code: string, unique with emial")
    expect(text, "SL215", "code: string, unique with emial", "did you mean 'email'")


def test_unique_together_with_a_misspelt_field_is_reported() -> None:
    text = spec(customer="- unique together: email, nmae")
    expect(text, "SL215", "unique together: email, nmae", "did you mean 'name'")


def test_a_bound_against_a_misspelt_field_is_reported() -> None:
    text = spec(customer="- joined_on: date\n- left_on: date, after joind_on")
    expect(text, "SL215", "after joind_on", "did you mean 'joined_on'")


def test_a_default_from_a_misspelt_field_is_reported() -> None:
    text = spec(customer="- limit: integer, defaults to credt")
    expect(text, "SL215", "defaults to credt", "did you mean 'credit'")


def test_an_entity_no_endpoint_reaches_is_reported() -> None:
    text = spec(entities="### Coupon\n- code: string, required")
    found = expect(text, "SL216", "Coupon", "add an endpoint such as 'CRUD /coupons'")
    assert found.severity == "warning"


def test_the_endpoint_suggested_for_an_unreachable_entity_compiles() -> None:
    entities = "### Coupon\n- code: string, required"
    message = only(spec(entities=entities), "SL216").message
    suggestion = re.search(r"'(CRUD /[^']+)'", message)
    assert suggestion is not None
    assert_clean(spec(entities=entities, endpoints=f"- F4. {suggestion.group(1)}"))


def test_the_endpoint_suggested_for_a_two_word_entity_compiles() -> None:
    entities = "### TimeEntry\n- hours: integer, required"
    message = only(spec(entities=entities), "SL216").message
    suggestion = re.search(r"'(CRUD /[^']+)'", message)
    assert suggestion is not None
    assert_clean(spec(entities=entities, endpoints=f"- F4. {suggestion.group(1)}"))


def test_an_entity_a_flow_creates_is_reachable() -> None:
    text = flow_spec(
        '- Create a Note with customer and body = "blocked".',
        entities="### Note\n- customer: Customer, required\n- body: text, required",
    )
    assert_clean(text)


def test_a_read_only_field_nothing_sets_is_reported() -> None:
    text = spec(customer="- points: integer, read-only")
    expect(text, "SL217", "points: integer, read-only", "give it a default, 'set on create'")


def test_a_read_only_field_a_flow_sets_is_fine() -> None:
    text = flow_spec("- Increase customer.points by 1.", customer="- points: integer, read-only")
    assert_clean(text)


# --- SL3xx: endpoints ----------------------------------------------------------------


def test_an_unknown_method_is_not_an_endpoint_line() -> None:
    text = spec(endpoints="- F4. FETCH /orders")
    expect(text, "SL301", "F4. FETCH /orders", "an endpoint reads 'F1. METHOD /path")


def test_a_method_with_no_meaning_on_a_collection_is_reported_on_the_path() -> None:
    text = spec(endpoints="- F4. PUT /orders: replace every order")
    expect(
        text,
        "SL301",
        "/orders",
        "PUT on a collection has no meaning here: use GET, POST",
        line_with="- F4.",
    )


def test_a_misspelt_collection_names_no_entity() -> None:
    text = spec(endpoints="- F4. GET /ordrs: list orders")
    expect(text, "SL302", "ordrs", "did you mean 'orders'")


def test_an_empty_path_names_no_collection() -> None:
    text = spec(endpoints="- F4. GET /: the home page")
    expect(text, "SL302", "/", "start it with one, as in '/books'", line_with="- F4.")


def test_a_segment_right_after_a_collection_needs_a_parameter_between() -> None:
    text = spec(endpoints="- F4. GET /customers/orders: list orders")
    expect(text, "SL302", "orders", "put a parameter between them", line_with="- F4.")


def test_a_parameter_that_is_not_the_id_is_a_mismatch() -> None:
    text = spec(endpoints="- F4. DELETE /orders/{order}: cancel an order")
    expect(text, "SL303", "{order}", "write '{id}' or '{order_id}'")


def test_a_parameter_naming_another_entity_is_a_mismatch() -> None:
    text = spec(endpoints="- F4. DELETE /orders/{customer_id}: cancel an order")
    expect(text, "SL303", "{customer_id}", "does not name the id of Order")


def test_a_parameter_before_any_collection_is_a_mismatch() -> None:
    text = spec(endpoints="- F4. GET /{id}/orders: list orders")
    expect(text, "SL303", "{id}", "must follow a collection", line_with="- F4.")


def test_a_parameter_named_twice_is_a_mismatch() -> None:
    text = spec(endpoints="- F4. GET /customers/{id}/orders/{id}: get an order")
    found = only(text, "SL303")
    line, column = locate(text, "{id}", "- F4.")
    second = text.split("\n")[line].find("{id}", column + 1)
    assert (found.range.start.line, found.range.start.column) == (line, second)
    assert "give each a name" in found.message


def test_a_capitalised_segment_is_not_a_path_segment() -> None:
    text = spec(endpoints="- F4. GET /Orders: list orders")
    expect(text, "SL303", "Orders", "use lower-case words")


def test_crud_on_a_nested_path_is_reported() -> None:
    text = spec(endpoints="- F4. CRUD /customers/{id}/orders")
    expect(text, "SL303", "F4. CRUD /customers/{id}/orders", "write nested endpoints one per line")


def test_named_parameters_of_the_right_entities_are_fine() -> None:
    text = spec(endpoints="- F4. GET /customers/{customer_id}/orders: list a customer's orders")
    assert_clean(text)


def test_a_second_endpoint_on_the_same_route_is_a_duplicate() -> None:
    text = spec(endpoints="- F4. POST /orders: place another order")
    first, _ = locate(text, "- F2. POST /orders")
    expect(
        text,
        "SL304",
        "F4. POST /orders: place another order",
        f"already declared by F2 (line {first + 1})",
        "remove one",
    )


def test_differently_named_parameters_are_still_the_same_route() -> None:
    text = spec(endpoints="- F4. GET /orders/{order_id}: get an order again")
    expect(text, "SL304", "F4. GET /orders/{order_id}: get an order again", "already declared")


def test_a_misspelt_filter_field_is_reported() -> None:
    line = "F4. GET /customers/{id}/orders: list a customer's orders, filter by totl"
    text = spec(endpoints=f"- {line}")
    expect(text, "SL305", "totl", "cannot filter by 'totl'", "did you mean 'total'")


def test_a_misspelt_filter_field_is_reported_on_the_field() -> None:
    text = spec(endpoints="- F4. GET /customers/{id}/orders: list orders, filter by totl")
    expect(text, "SL305", "totl", "did you mean 'total'")


def test_a_misspelt_order_field_is_reported() -> None:
    line = "F4. GET /customers/{id}/orders: list orders, ordered by placed"
    text = spec(endpoints=f"- {line}")
    expect(
        text,
        "SL305",
        "placed",
        "cannot order by 'placed'",
        "did you mean 'placed_at'",
        line_with="ordered by placed",
    )


def test_a_misspelt_updatable_field_is_reported() -> None:
    text = spec(endpoints="- F4. PATCH /orders/{id}: update totl")
    expect(text, "SL305", "totl", "did you mean 'total'")


def test_an_action_without_a_flow_is_reported() -> None:
    text = spec(endpoints="- F4. POST /orders/{id}/cancel: cancel an order")
    expect(
        text,
        "SL306",
        "F4. POST /orders/{id}/cancel: cancel an order",
        "describe what it does in a flow headed '### F4. cancel an order'",
    )


def test_an_endpoint_line_wrapped_onto_two_lines_is_understood() -> None:
    text = spec(
        endpoints="""
        - F4. GET /customers/{id}/orders: list a customer's orders,
          ordered by placed_at descending
        """
    )
    assert_clean(text)


def test_a_nested_path_with_two_ways_back_asks_for_a_collection_with_via() -> None:
    text = spec(
        order="- gift_for: Customer, optional",
        endpoints="- F4. GET /customers/{id}/orders: list a customer's orders",
    )
    expect(
        text,
        "SL302",
        "orders",
        "refers to Customer through several fields",
        "declare a collection on Customer",
        line_with="- F4.",
    )


def test_an_unknown_endpoint_clause_is_reported_on_the_clause() -> None:
    text = spec(endpoints="- F4. GET /customers/{id}/orders: list orders, shiny")
    expect(text, "SL307", "shiny", "use 'filter by <fields>'")


def test_known_endpoint_clauses_are_fine() -> None:
    line = (
        "- F4. GET /customers/{id}/orders: list orders, filter by total, "
        "paginated (page size 50), ordered by placed_at descending"
    )
    assert_clean(spec(endpoints=line))


# --- SL4xx: flows --------------------------------------------------------------------


def test_a_sentence_that_is_no_step_is_reported_on_its_first_word() -> None:
    text = flow_spec("- Tell the customer by email.")
    expect(text, "SL401", "Tell", "a step begins with one of Require, Set")


def test_a_guard_without_else_is_reported_where_else_should_be() -> None:
    text = flow_spec("- Require customer.credit >= 0.")
    found = only(text, "SL401")
    line, column = locate(text, "- Require customer.credit >= 0.")
    assert found.range.start.line == line
    assert found.range.start.column == column + len("- Require customer.credit >= 0")
    assert "expected 'else' or 'otherwise'" in found.message


def test_a_step_nested_under_a_plain_step_is_reported() -> None:
    text = flow_spec(
        """
        - Set customer.status to BLOCKED.
          - Set customer.credit to 0.
        """
    )
    expect(text, "SL401", "Set customer.credit to 0.", "takes no nested steps")


def test_otherwise_without_if_or_find_is_reported() -> None:
    text = flow_spec("- Otherwise, set customer.credit to 0.")
    expect(text, "SL401", "Otherwise", "must follow an 'If' step or a 'Find' step")


def test_for_each_without_nested_steps_is_reported() -> None:
    text = flow_spec(
        "- For each order in the Order records of customer:",
    )
    found = only(text, "SL401")
    assert found.range.start.line == locate(text, "- For each order")[0]
    assert "needs nested steps below it" in found.message


def test_the_and_possessives_read_as_a_path_in_conditions() -> None:
    assert_clean(flow_spec('- Require the customer\'s credit >= 0, else 409 "in debt".'))


def test_a_misspelt_record_in_a_flow_is_an_unknown_name() -> None:
    text = flow_spec('- Require custmer.credit >= 0, else 409 "in debt".')
    expect(text, "SL402", "custmer.credit", "did you mean 'customer'")


def test_setting_from_an_input_the_flow_lacks_is_reported() -> None:
    text = flow_spec("- Set customer.name from the input.")
    expect(text, "SL402", "customer.name", "add it to the 'Input:' line")


def test_is_given_on_something_that_is_not_an_input_is_reported() -> None:
    text = flow_spec(
        """
        Input: name (each optional)
        - If nme is given, set customer.name from the input.
        """
    )
    expect(text, "SL402", "nme is given", "did you mean 'name'")


def test_creating_a_misspelt_entity_is_reported() -> None:
    text = flow_spec("- Create an Ordr with customer.")
    expect(text, "SL403", "Create an Ordr with customer.", "did you mean 'Order'")


def test_finding_a_misspelt_entity_is_reported() -> None:
    text = flow_spec("- Find the Ordr of customer; if found, use it.")
    found = only(text, "SL403")
    assert found.range.start.line == locate(text, "- Find the Ordr")[0]
    assert "did you mean 'Order'" in found.message


def test_a_misspelt_field_in_a_flow_is_reported_with_the_fields() -> None:
    text = flow_spec('- Require customer.credt >= 0, else 409 "in debt".')
    expect(
        text,
        "SL404",
        "customer.credt",
        "did you mean 'credit'",
        "its fields are: email, name, status, credit",
    )


def test_creating_with_a_misspelt_field_is_reported_on_that_value() -> None:
    text = flow_spec("- Create an Order with customer, total = 1 and totl = 2.")
    expect(text, "SL404", "totl = 2", "did you mean 'total'")


def test_an_unknown_state_in_a_guard_is_reported() -> None:
    text = flow_spec('- Require customer.status is ACTIV, else 409 "blocked".')
    expect(text, "SL405", "customer.status is ACTIV", "did you mean 'ACTIVE'")


def test_an_unknown_state_in_a_set_step_is_reported() -> None:
    text = flow_spec("- Set customer.status to GONE.")
    expect(text, "SL405", "customer.status to GONE", "its states are: ACTIVE, BLOCKED")


def test_an_unknown_state_in_a_rule_is_reported() -> None:
    text = spec(rules="- R1. A customer's status is never GONE.")
    expect(text, "SL405", "A customer's status is never GONE", "its states are: ACTIVE, BLOCKED")


def test_a_flow_for_a_missing_endpoint_id_is_reported() -> None:
    text = spec(flows="### F9. Close an account\n- Set customer.credit to 0.")
    expect(
        text,
        "SL406",
        "F9. Close an account",
        "no endpoint has the ID F9",
        "starts with the ID of the endpoint it implements",
    )


def test_a_flow_without_id_whose_name_is_no_summary_is_reported() -> None:
    text = spec(flows="### Close an account\n- Set customer.credit to 0.")
    expect(text, "SL406", "Close an account", "start its heading with the endpoint's ID")


def test_a_flow_without_id_named_like_an_endpoint_summary_is_bound_to_it() -> None:
    text = spec(
        endpoints=BLOCK_ENDPOINT,
        flows="### Block a customer\n- Set customer.status to BLOCKED.",
    )
    result = assert_clean(text)
    assert result.ir.behaviour.flows[0].endpoint == "F4"


def test_ordering_a_string_is_a_type_mismatch() -> None:
    text = flow_spec('- Require customer.name > 3, else 409 "short".')
    expect(text, "SL407", "customer.name > 3", "compare it with 'is' or 'is not'")


def test_setting_a_number_to_text_is_a_type_mismatch() -> None:
    text = flow_spec('- Set customer.credit to "lots".')
    expect(text, "SL407", 'customer.credit to "lots"', "is integer and cannot be")


def test_increasing_a_string_is_a_type_mismatch() -> None:
    text = flow_spec("- Increase customer.name by 1.")
    expect(text, "SL407", "customer.name", "only a number can be increased", line_with="Increase")


def test_responding_with_a_number_is_a_type_mismatch() -> None:
    text = flow_spec("- Respond 200 with customer.credit.")
    expect(text, "SL407", "customer.credit", "a response carries a record or a list")


def test_a_guard_with_a_success_status_is_invalid() -> None:
    text = flow_spec('- Require customer.credit >= 0, else 200 "fine".')
    expect(text, "SL408", 'Require customer.credit >= 0, else 200 "fine".', "4xx or 5xx")


def test_a_respond_with_an_impossible_status_is_invalid() -> None:
    text = flow_spec("- Respond 999.")
    expect(text, "SL408", "Respond 999.", "100 to 599")


def test_an_error_policy_status_outside_4xx_and_5xx_is_invalid() -> None:
    text = spec(errors="- A conflict answers 600.")
    expect(text, "SL408", "600", "use a 4xx or 5xx code")


def test_a_rule_with_an_impossible_status_is_invalid() -> None:
    text = spec(rules="- R1. A customer's credit is never negative (999).")
    found = only(text, "SL408")
    assert found.range.start.line == locate(text, "- R1.")[0]


def test_a_step_after_respond_is_reported() -> None:
    text = flow_spec(
        """
        - Respond 200 with the customer.
        - Set customer.credit to 0.
        """
    )
    expect(text, "SL409", "Set customer.credit to 0.", "never runs: move it before")


def test_setting_a_whole_record_is_reported() -> None:
    text = flow_spec("- Set customer to 1.")
    expect(text, "SL410", "customer", "set one of its fields", line_with="- Set customer to")


def test_setting_an_id_is_reported() -> None:
    text = flow_spec("- Set customer.id to 3.")
    expect(text, "SL410", "customer.id", "name a field of a record")


def test_setting_a_collection_is_reported() -> None:
    text = flow_spec("- Set customer.orders to 0.", customer="- orders: list of Order")
    expect(text, "SL410", "customer.orders", "create or delete those records instead")


def test_an_endpoint_updating_a_read_only_field_is_reported() -> None:
    text = spec(endpoints="- F4. PATCH /orders/{id}: update total and placed_at")
    expect(
        text,
        "SL410",
        "F4. PATCH /orders/{id}: update total and placed_at",
        "set it in a flow instead",
    )


def test_an_input_that_is_not_a_name_is_not_understood() -> None:
    text = flow_spec("Input: reason (string), 3rd\n- Set customer.credit to 0.")
    expect(text, "SL411", "3rd", "list input names separated by commas")


def test_an_input_of_unknown_type_asks_for_a_type() -> None:
    text = flow_spec("Input: nme\n- Set customer.credit to 0.")
    expect(text, "SL411", "nme", "did you mean 'name'", "give it a type, as in 'nme (string)'")


def test_an_input_with_an_explicit_type_is_fine() -> None:
    text = flow_spec("Input: amount (integer)\n- Increase customer.credit by amount.")
    assert_clean(text)


def test_an_input_with_a_type_and_optional_is_understood() -> None:
    text = flow_spec(
        """
        Input: reason (string, optional)
        - If reason is given, set customer.credit to 0.
        """
    )
    result = assert_clean(text)
    (reason,) = result.ir.behaviour.flows[0].inputs
    assert (reason.name, reason.explicit_type, reason.optional) == ("reason", "string", True)


def test_creating_without_a_required_field_is_reported() -> None:
    text = flow_spec("- Create an Order with customer.")
    expect(text, "SL412", "Create an Order with customer.", "total unset: add it after 'with'")


def test_creating_with_every_required_field_is_fine() -> None:
    assert_clean(flow_spec("- Create an Order with customer and total = 0."))


# --- SL5xx: rules -------------------------------------------------------------------


def test_a_rule_in_free_prose_is_not_understood() -> None:
    text = spec(rules="- R1. Customers should be nice to each other.")
    expect(text, "SL501", "Customers", "Rules read like", line_with="- R1.")


def test_a_rule_about_a_misspelt_entity_is_reported() -> None:
    text = spec(rules="- R1. A custmer's credit is never negative.")
    expect(text, "SL502", "custmer", "write the entity's name as in its heading", "Customer")


def test_a_rule_about_a_misspelt_entity_gives_one_diagnostic() -> None:
    text = spec(rules="- R1. A custmer's credit is never negative.")
    assert codes(text) == ["SL502"]


def test_a_count_rule_about_a_misspelt_entity_is_reported() -> None:
    text = spec(rules="- R1. A customer has at most 3 Ordrs.")
    expect(text, "SL502", "Ordrs", "one of Customer, Order")


VISITS = {
    "entities": """
        ### Visit
        - customer: Customer, required
        - room: string, required
        - starts_at: datetime, required
        - ends_at: datetime, required
        """,
    "endpoints": "- F4. CRUD /visits",
}


def test_an_overlap_rule_grouped_by_a_misspelt_field_is_reported() -> None:
    text = spec(rules="- R1. Two visits of the same custmer never overlap.", **VISITS)
    expect(
        text,
        "SL503",
        "Two visits of the same custmer never overlap",
        "no field 'custmer' to group by",
        "did you mean 'customer'",
    )


def test_a_count_rule_without_a_reference_to_its_owner_is_reported() -> None:
    text = spec(rules="- R1. An order has at most one Customer.")
    expect(text, "SL503", "has at most one Customer", "needs exactly one")


def test_a_misspelt_field_of_the_rules_entity_is_an_unknown_field_in_the_rule() -> None:
    text = spec(
        customer="- limit: integer, default 100",
        rules="- R1. A customer's credit never exceeds its limt.",
    )
    expect(text, "SL503", "its limt", "did you mean 'limit'")


def test_a_misspelt_field_through_a_reference_in_a_rule_is_reported() -> None:
    text = spec(rules="- R1. An order's total never exceeds its customer's credt.")
    expect(text, "SL503", "its customer's credt", "did you mean 'credit'")


def test_a_misspelt_filter_field_in_a_count_rule_is_reported() -> None:
    text = spec(rules="- R1. A customer has at most 3 Orders with totl 0.")
    expect(text, "SL404", "totl 0", "did you mean 'total'")


def test_an_overlap_rule_without_a_time_range_is_reported() -> None:
    text = spec(rules="- R1. Two orders of the same customer never overlap.")
    expect(
        text,
        "SL504",
        "Two orders of the same customer never overlap",
        "add 'from <start field> to <end field>'",
    )


def test_an_overlap_rule_ending_on_a_field_that_is_no_time_is_reported() -> None:
    text = spec(
        rules="- R1. Two visits of the same customer never overlap from starts_at to room.",
        **VISITS,
    )
    found = only(text, "SL504")
    assert found.range.start.line == locate(text, "- R1.")[0]
    assert "'room' is not a date or datetime field of Visit" in found.message


def test_an_overlap_rule_on_a_field_that_is_no_time_does_not_suggest_it() -> None:
    text = spec(
        rules="- R1. Two visits of the same customer never overlap from starts_at to room.",
        **VISITS,
    )
    assert "did you mean 'room'" not in only(text, "SL504").message


def test_an_overlap_rule_with_an_inferred_time_range_is_fine() -> None:
    assert_clean(spec(rules="- R1. Two visits of the same room never overlap.", **VISITS))


# --- SL6xx: error policy -------------------------------------------------------------


def test_an_error_line_without_kind_or_status_is_not_understood() -> None:
    text = spec(errors="- Something odd happens now and then.")
    expect(
        text,
        "SL601",
        "Something odd happens now and then.",
        "as in 'A duplicate value of a unique field answers 409'",
    )


def test_an_error_kind_given_twice_is_reported_on_the_second() -> None:
    text = spec(errors="- An unknown id answers 410.")
    first, _ = locate(text, "An unknown id in the path")
    expect(
        text,
        "SL602",
        "An unknown id answers 410.",
        f"already given on line {first + 1}",
    )


def test_an_error_kind_given_twice_says_how_to_fix_it() -> None:
    assert tells_how_to_fix(only(spec(errors="- An unknown id answers 410."), "SL602").message)
