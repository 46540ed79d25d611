"""Scenario files as hostile input: each class of failure with its smallest example.

Every case is run through ``relsim validate`` and ``relsim run``: exit status
2, one line on standard error naming the file (the child that set the value
or named the bad parent) and the field, the rule and the value, and nothing
written. The classes: numbers that are not finite (1), numbers without a
bound (2), the wrong file blamed (3), structure the parser accepts but the
loader did not expect (4), files without end and files from anywhere (5),
and a cycle of follow-ups (9). Numbers given on the command line meet the
same bounds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from model.cli import main
from model.errors import ScenarioError
from model.scenario import load_scenario
from model.scenario.limits import MAX_BYTES, MAX_RATE

from .conftest import SCENARIOS

HEAD = 'name = "x"\nextends = "baseline.toml"\n'
EVENT = '[[events.add]]\nid = "e"\ntitle = "t"\n'
HAZARD = '[[hazards]]\nid = "h"\ntitle = "h"\neffects = [{ indicator = "security", jump = -1.0 }]\n'


def _effect(**kw: str) -> str:
    inner = ", ".join(f"{k} = {v}" for k, v in kw.items())
    return f'date = 2027-01-01\neffects = [{{ indicator = "trade", {inner} }}]\n'


@pytest.fixture
def folder(tmp_path):
    shutil.copy(SCENARIOS / "baseline.toml", tmp_path / "baseline.toml")
    return tmp_path


def refused(folder, capsys, name: str, *extra: str) -> str:
    """``relsim validate`` and ``relsim run`` on ``name``: status 2, one line, nothing written;
    the line."""
    lines = []
    for command in ("validate", "run"):
        out = folder / "out"
        args = [command, str(folder / name), *extra]
        args += ["--out", str(out), "--no-plots", "--workers", "1"] if command == "run" else []
        assert main(args) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and "internal" not in err, err
        assert not out.exists()
        lines.append(err.strip())
    assert lines[0] == lines[1]
    return lines[0]


# ------------------------------------------------------------------ 1. numbers that are not finite

NOT_FINITE = {
    "jump = nan": (EVENT + _effect(jump="nan"), "events.add[e].effects[0].jump", "nan"),
    "sigma = inf": ("[indices.trade]\nsigma = inf\n", "indices.trade.sigma", "inf"),
    "half_life = nan": ("[indices.trade]\nhalf_life = nan\n", "indices.trade.half_life", "nan"),
    "rate = nan": (HAZARD + "rate = nan\n", "hazards[h].rate", "nan"),
    "rate = inf": (HAZARD + "rate = inf\n", "hazards[h].rate", "inf"),
    "sd = nan": (
        EVENT + _effect(jump='{ dist = "normal", mean = 0.0, sd = nan }'),
        "events.add[e].effects[0].jump.sd",
        "nan",
    ),
    "events.scale = nan": (
        '[events.scale]\n"coup-attempt-2016" = nan\n',
        "events.scale.coup-attempt-2016",
        "nan",
    ),
    "elasticity = -inf": (
        HAZARD + 'rate = 1.0\nindicator = "trade"\nelasticity = -inf\n',
        "hazards[h].elasticity",
        "-inf",
    ),
    "spillover = inf": ("[spillover.trade]\nsecurity = inf\n", "spillover.trade.security", "inf"),
    "damping = nan": ("damping = nan\n", "damping", "nan"),
    "policy param = nan": (
        '[policy]\nname = "balancing"\nparams = { west_floor = nan }\n',
        "policy.params.west_floor",
        "nan",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_FINITE))
def test_numbers_that_are_not_finite_are_refused(case, folder, capsys):
    body, field, value = NOT_FINITE[case]
    (folder / "case.toml").write_text(HEAD + body)
    line = refused(folder, capsys, "case.toml")
    assert f"case.toml: {field}: must be a finite number (got {value})" in line


# ------------------------------------------------------------------ 2. numbers without a bound

UNBOUNDED = {
    "rate = 1e300": (HAZARD + "rate = 1e300\n", "hazards[h].rate", "between -1,000,000 and"),
    "rate = 1000": (HAZARD + "rate = 1000.0\n", "hazards[h].rate", "at most 365 a year"),
    "rate at the worst level": (
        HAZARD + 'rate = 40.0\nindicator = "security"\nreference = 50.0\nelasticity = 0.05\n',
        "hazards[h].rate",
        "at most 365 a year (one a day on average) at security = 0",
    ),
    "uniform rate reaching 1000": (
        HAZARD + 'rate = { dist = "uniform", low = 1.0, high = 1000.0 }\n',
        "hazards[h].rate",
        "at most 365",
    ),
    "lognormal sigma = 1e6": (
        HAZARD + 'rate = { dist = "lognormal", median = 1.0, sigma = 1e6 }\n',
        "hazards[h].rate.sigma",
        "'sigma' of a lognormal must be at most 10",
    ),
    "every = 0.1d": (
        '[policy]\nname = "balancing"\nevery = "0.1d"\n',
        "policy.every",
        "at least one day (got '0.1d', which rounds to 0 days)",
    ),
    "every = 0.4m": (
        '[policy]\nname = "balancing"\nevery = "0.4m"\n',
        "policy.every",
        "which rounds to 0 months",
    ),
    "duration = 100000y": (
        EVENT + _effect(shift="-5.0", duration='"100000y"'),
        "events.add[e].effects[0].duration",
        "at most 300 years",
    ),
    "follow-up 2^62 days later": (
        EVENT.replace(
            'id = "e"', f'id = "e"\nafter = {{ event = "coup-attempt-2016", days = {2**62} }}'
        )
        + 'effects = [{ indicator = "trade", jump = -5.0 }]\n',
        "events.add[e].after.days",
        "less than or equal to 109575",
    ),
    "jump = 1e300": (
        EVENT + _effect(jump="1e300"),
        "events.add[e].effects[0].jump",
        "between -1,000,000 and 1,000,000 (got 1e+300)",
    ),
    "replicates = 1e11": ("[run]\nreplicates = 100000000000\n", "run.replicates", "100000000"),
    "seed = 2^64": (f"[run]\nseed = {2**64}\n", "run.seed", "9223372036854775807"),
    "start in 1066": ("[run]\nstart = 1066-10-14\n", "run.start", "supported calendar"),
    "half_life = 1e-6": (
        "[indices.trade]\nhalf_life = 1e-6\n",
        "indices.trade.half_life",
        "'half_life' must be at least one day (0.00274 years)",
    ),
    "half_life drawn below a day": (
        '[indices.trade]\nhalf_life = { dist = "lognormal", median = 1.0, sigma = 2.0 }\n',
        "indices.trade.half_life",
        "which it can draw",
    ),
    "sigma = 1e6": ("[indices.trade]\nsigma = 1e6\n", "indices.trade.sigma", "at most 10"),
}


@pytest.mark.parametrize("case", sorted(UNBOUNDED))
def test_numbers_without_a_bound_are_refused(case, folder, capsys):
    body, field, text = UNBOUNDED[case]
    (folder / "case.toml").write_text(HEAD + body)
    line = refused(folder, capsys, "case.toml")
    assert f"case.toml: {field}: " in line and text in line


def follow_ups(*links: tuple[str, str], days: int) -> str:
    """Added events, each ``(id, the event it follows)``, ``days`` after it."""
    return "".join(
        f'[[events.add]]\nid = "{ident}"\ntitle = "t"\n'
        f'after = {{ event = "{parent}", days = {days} }}\n'
        'effects = [{ indicator = "trade", jump = -1.0 }]\n'
        for ident, parent in links
    )


def test_a_chain_of_follow_ups_may_not_reach_beyond_300_years(folder, capsys):
    (folder / "case.toml").write_text(
        HEAD + follow_ups(("a", "coup-attempt-2016"), ("b", "a"), days=60000)
    )
    line = refused(folder, capsys, "case.toml")
    assert "events.add[b].after.days: 'b' would act 120000 days after 'coup-attempt-2016'" in line


def test_the_bounds_themselves_are_accepted(folder):
    body = (
        HAZARD
        + f"rate = {MAX_RATE}\n"
        + '[policy]\nname = "balancing"\nevery = "1d"\n'
        + EVENT
        + _effect(shift="-5.0", duration='"300y"')
    )
    (folder / "case.toml").write_text(HEAD + body)
    sc = load_scenario(folder / "case.toml")
    assert sc.hazards[0].rate == MAX_RATE and sc.policy.every == "1d"


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        (["--replicates", str(10**12)], "--replicates must be <= 100,000,000"),
        (["--seed", str(2**64)], "--seed must be <= 9,223,372,036,854,775,807"),
    ],
)
def test_command_line_counts_meet_the_schema_bounds(flags, text, capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIOS / "baseline.toml"), *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert text in err and err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize(
    ("grid", "text"),
    [
        ("damping=0:1:1000000000", "STEPS must be a whole number from 2 to 1000 (got 1e+09)"),
        ("damping=nan:1:3", "the numbers must be finite"),
    ],
)
def test_sweep_grid_steps_and_ends_are_bounded(grid, text, capsys, tmp_path):
    out = tmp_path / "out"
    args = ["sweep", str(SCENARIOS / "baseline.toml"), "--grid", grid, "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--grid" in err and text in err and err.count("\n") == 1 and not out.exists()


# ------------------------------------------------------------------ 3. the file that set the value


def test_a_child_setting_start_after_end_is_blamed_not_its_parent(folder, capsys):
    (folder / "child.toml").write_text(HEAD + "[run]\nstart = 2040-01-01\n")
    (folder / "grandchild.toml").write_text('name = "g"\nextends = "child.toml"\n')
    for name in ("child.toml", "grandchild.toml"):
        line = refused(folder, capsys, name)
        assert "child.toml: run.start: 'end' (2035-12-31) must be after 'start'" in line
        assert "grandchild" not in line and "baseline" not in line


def test_a_child_setting_end_before_start_names_end(folder, capsys):
    (folder / "child.toml").write_text(HEAD + "[run]\nend = 1999-01-01\n")
    assert "child.toml: run.end: 'end' (1999-01-01)" in refused(folder, capsys, "child.toml")


def test_a_parent_breaking_its_own_rule_is_still_blamed(folder, capsys):
    (folder / "parent.toml").write_text('name = "p"\n[run]\nstart = 2030-01-01\nend = 2020-01-01\n')
    (folder / "child.toml").write_text('name = "c"\nextends = "parent.toml"\n[run]\nseed = 3\n')
    assert "parent.toml: run." in refused(folder, capsys, "child.toml")


@pytest.mark.parametrize(
    ("extends", "text"),
    [
        (".", "extends: '.' is a folder, not a scenario file"),
        ("", "extends: '' names no file"),
        ("/etc/passwd", "extends: '/etc/passwd' is not a .toml file"),
        ("/dev/zero", "extends: '/dev/zero' is not a regular file"),
        ("sub", "extends: 'sub' is a folder, not a scenario file"),
        ("notes.txt", "extends: 'notes.txt' is not a .toml file"),
        ("missing.toml", "extends: parent scenario 'missing.toml' not found next to the file"),
        ("loop.toml", "extends: 'loop.toml' is a symlink loop"),
    ],
)
def test_every_extends_failure_names_the_child(extends, text, folder, capsys):
    (folder / "sub").mkdir()
    (folder / "notes.txt").write_text('name = "n"\n')
    os.symlink("loop.toml", folder / "loop.toml")
    (folder / "child.toml").write_text(f'name = "c"\nextends = "{extends}"\n')
    (folder / "grandchild.toml").write_text('name = "g"\nextends = "child.toml"\n')
    for name in ("child.toml", "grandchild.toml"):
        line = refused(folder, capsys, name)
        assert f"child.toml: {text}" in line and "grandchild.toml" not in line


# ---------------------------------------------- 4. structure the loader did not expect


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\ndescription = ' + "[" * 3000 + "]" * 3000 + "\n", "nest too deep"),
        ('name = "x"\n' + ".".join(["a"] * 5000) + " = 1\n", "more than 16 levels deep"),
        ('name = "x"\n' + "[" + ".".join(["t"] * 20) + "]\nk = 1\n", "more than 16 levels deep"),
    ],
    ids=["3000 nested arrays", "5000-part dotted key", "20-level table header"],
)
def test_deep_structure_gets_one_line(text, message, folder, capsys):
    (folder / "case.toml").write_text(text)
    line = refused(folder, capsys, "case.toml")
    assert "case.toml: " in line and message in line


@pytest.mark.parametrize(
    ("section", "ident", "field"),
    [
        ("events.add", '["a"]', "events.add[0].id"),
        ("events.add", "{ a = 1 }", "events.add[0].id"),
        ("hazards", '["h"]', "hazards[0].id"),
    ],
)
def test_an_id_that_is_not_a_string_in_a_merged_list(section, ident, field, folder, capsys):
    parent = 'name = "p"\n' + (
        EVENT.replace('"e"', '"p-2027"') + _effect(jump="-1.0")
        if section == "events.add"
        else HAZARD.replace('"h"', '"p"', 1) + "rate = 0.1\n"
    )
    (folder / "parent.toml").write_text(parent)
    body = f'[[{section}]]\nid = {ident}\ntitle = "t"\n' + (
        _effect(jump="-1.0") if section == "events.add" else HAZARD.split("\n", 3)[3]
    )
    (folder / "child.toml").write_text('name = "c"\nextends = "parent.toml"\n' + body)
    line = refused(folder, capsys, "child.toml")
    kind = "an array" if ident.startswith("[") else "a table"
    assert (
        f"child.toml: {field.replace('[0]', '[1]')}: Input should be a valid string (got {kind})"
        in line
    )


# ---------------------------------------------- 5. files without end, files from anywhere


def test_validate_dev_zero_exits_2_at_once():
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "model", "validate", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and time.monotonic() - start < 30
    assert done.stderr == (
        "error: /dev/zero: (file): is not a regular file (a device, a FIFO or a socket), "
        "not a scenario file\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_being_opened(folder, capsys):
    os.mkfifo(folder / "pipe.toml")  # opening it for reading would block forever
    assert "pipe.toml: (file): is not a regular file" in refused(folder, capsys, "pipe.toml")


def test_a_huge_file_is_refused_before_it_is_read(folder, capsys):
    with open(folder / "huge.toml", "wb") as handle:  # sparse: 1 GB that reads as zeros
        handle.truncate(1024**3)
    start = time.monotonic()
    line = refused(folder, capsys, "huge.toml")
    assert "huge.toml: (file): is 1024.0 MB, more than a scenario may be (1.0 MB)" in line
    assert time.monotonic() - start < 10


def test_the_size_limit_is_exact(folder):
    text = 'name = "x"\n# '
    (folder / "at.toml").write_text(text + "a" * (MAX_BYTES - len(text) - 1) + "\n")
    assert load_scenario(folder / "at.toml").name == "x"
    (folder / "over.toml").write_text(text + "a" * (MAX_BYTES - len(text)) + "\n")
    with pytest.raises(ScenarioError, match="more than a scenario may be"):
        load_scenario(folder / "over.toml")


def test_a_symlink_loop_is_refused(folder, capsys):
    os.symlink("b.toml", folder / "a.toml")
    os.symlink("a.toml", folder / "b.toml")
    assert "a.toml: (file): is a symlink loop" in refused(folder, capsys, "a.toml")


def test_a_folder_is_refused(folder, capsys):
    (folder / "dir.toml").mkdir()
    assert "dir.toml: (file): is a folder, not a scenario file" in refused(
        folder, capsys, "dir.toml"
    )


def test_a_byte_order_mark_is_accepted(folder):
    (folder / "bom.toml").write_bytes(b'\xef\xbb\xbfname = "bom"\nextends = "baseline.toml"\n')
    assert load_scenario(folder / "bom.toml").name == "bom"


def test_text_that_is_not_utf8_is_named(folder, capsys):
    (folder / "latin.toml").write_bytes(b'name = "x"\ndescription = "caf\xe9"\n')
    line = refused(folder, capsys, "latin.toml")
    assert "latin.toml: (file): is not UTF-8 text (byte 0xe9 at offset 29)" in line


# ------------------------------------------------------------------ dates and distribution keys


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("[run]\nend = 2016-02-30\n", "run.end: '2016-02-30' is not a valid date or time (line 4)"),
        (
            "[events]\nmove = { s400-delivery-2019 = 2019-02-30 }\n",
            "events.move.s400-delivery-2019: '2019-02-30' is not a valid date or time",
        ),
        (
            EVENT.replace('"t"\n', '"t"\ndate = 2027-13-01\n'),
            "events.add.date: '2027-13-01' is not a valid date or time",
        ),
    ],
)
def test_an_impossible_date_names_the_field(body, text, folder, capsys):
    (folder / "case.toml").write_text(HEAD + body)
    line = refused(folder, capsys, "case.toml")
    assert f"case.toml: {text}" in line and "Invalid" not in line


def test_a_misspelt_distribution_key_suggests_the_right_one(folder, capsys):
    (folder / "case.toml").write_text(
        HEAD + EVENT + _effect(jump='{ dist = "normal", mean = 0.0, std = 1.0 }')
    )
    line = refused(folder, capsys, "case.toml")
    assert "events.add[e].effects[0].jump.std: unknown key 'std' (did you mean 'sd'?)" in line


# ------------------------------------------------------------------ 9. a cycle of follow-ups


def test_a_cycle_of_follow_ups_names_the_ids(folder, capsys):
    (folder / "case.toml").write_text(HEAD + follow_ups(("a", "b"), ("b", "a"), days=10))
    line = refused(folder, capsys, "case.toml")
    assert "events.add[a].after.event: follow-ups form a cycle: a -> b -> a" in line


def test_a_key_with_a_line_break_still_gives_one_line(folder, capsys):
    """Found by tests/test_fuzz.py: a quoted key holding a newline split the message in two."""
    (folder / "case.toml").write_text(HEAD + '[events]\n"\\n" = 0.0\n')
    assert 'case.toml: events."\\n": unknown key' in refused(folder, capsys, "case.toml")


def test_a_child_shortening_the_run_is_blamed_for_the_parents_dates(folder, capsys):
    (folder / "parent.toml").write_text(
        HEAD.replace('"x"', '"p"') + EVENT + _effect(jump="-1.0").replace("2027", "2031")
    )
    (folder / "child.toml").write_text(
        'name = "c"\nextends = "parent.toml"\n[run]\nend = 2030-12-31\n'
    )
    line = refused(folder, capsys, "child.toml")
    assert "child.toml: run.end: the run 2000-01-01..2030-12-31 leaves out " in line
    assert "events.add[e].date = 2031-01-01 (set in " in line and "parent.toml)" in line
    (folder / "late.toml").write_text(
        'name = "l"\nextends = "parent.toml"\n[[events.add]]\nid = "e"\ndate = 2040-01-01\n'
    )
    line = refused(folder, capsys, "late.toml")
    assert "late.toml: events.add[e].date: 2040-01-01 is outside the run" in line


def test_a_key_of_a_megabyte_and_a_name_of_a_megabyte_get_short_lines(folder, capsys):
    (folder / "key.toml").write_text('name = "x"\n' + "k" * 1_000_000 + " = 1\n")
    line = refused(folder, capsys, "key.toml")
    assert "is 1,000,000 characters long; a key is at most 100" in line and len(line) < 300
    (folder / "name.toml").write_text('name = "' + "n" * 1_000_000 + '"\n')
    line = refused(folder, capsys, "name.toml")
    assert "name: String should have at most 100 characters" in line and len(line) < 300


def test_long_arrays_and_tables_are_refused_before_they_are_checked(folder, capsys):
    (folder / "drop.toml").write_text(
        HEAD + "[events]\ndrop = [" + ", ".join(f'"e{i}"' for i in range(2001)) + "]\n"
    )
    line = refused(folder, capsys, "drop.toml")
    assert (
        "drop.toml: events.drop: an array of 2,001 entries; tables and arrays hold at most" in line
    )
    events = "".join(
        f'[[events.add]]\nid = "e{i}"\ndate = 2027-01-01\ntitle = "t"\n'
        'effects = [{ indicator = "trade", jump = 0.1 }]\n'
        for i in range(1001)
    )
    (folder / "add.toml").write_text(HEAD + events)
    line = refused(folder, capsys, "add.toml")
    assert "add.toml: events.add: Tuple should have at most 1000 items" in line


def test_a_long_chain_of_follow_ups_validates_in_seconds(folder):
    events = "".join(
        f'[[events.add]]\nid = "e{i}"\n'
        + ("date = 2027-01-01\n" if i == 0 else f'after = {{ event = "e{i - 1}", days = 1 }}\n')
        + 'title = "t"\neffects = [{ indicator = "trade", jump = 0.001 }]\n'
        for i in range(1000)
    )
    (folder / "chain.toml").write_text(HEAD + events)
    start = time.monotonic()
    assert len(load_scenario(folder / "chain.toml").events.add) == 1000
    assert time.monotonic() - start < 20  # about 1.5 s; 7.7 s before chains were walked once


def test_a_value_of_half_a_megabyte_is_quoted_short(folder, capsys):
    (folder / "case.toml").write_text(HEAD + '[events]\ndrop = ["' + "x" * 500_000 + '"]\n')
    line = refused(folder, capsys, "case.toml")
    assert "case.toml: events.drop: unknown event id 'xxxx" in line and len(line) < 1300


def test_a_date_error_on_a_line_of_a_megabyte_is_found_at_once(folder, capsys):
    """The field of a bad date was looked for with patterns that backtracked without bound:
    a 200,000-character line took over a minute."""
    (folder / "case.toml").write_text(HEAD + '[run]\nend = ["' + "x" * 900_000 + '", 2016-02-30]\n')
    start = time.monotonic()
    line = refused(folder, capsys, "case.toml")
    assert "case.toml: run.end: '2016-02-30' is not a valid date or time (line 4)" in line
    assert time.monotonic() - start < 20


def test_a_chain_of_extends_is_at_most_20_files(folder, capsys):
    """1,200 files extending each other ran the loader out of stack, reported as nesting."""
    for i in range(30):
        parent = f'extends = "c{i + 1}.toml"\n' if i < 29 else ""
        (folder / f"c{i}.toml").write_text(f'name = "c{i}"\n{parent}')
    line = refused(folder, capsys, "c0.toml")
    assert "c19.toml: extends: a chain of more than 20 files extending each other" in line
    assert load_scenario(folder / "c10.toml").name == "c10"
