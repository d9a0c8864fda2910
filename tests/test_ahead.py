"""YAML files parsed ahead by a child process (kg.ahead): the same records, problems and
lines as parsed in the process itself, whatever happens to the child."""

import os
import textwrap

import pytest

from kg import ahead
from kg.inputs import RecordInput

FILES = {
    "c/00-case.yaml": "case: {id: c, title: C}\n",
    "c/10-people.yaml": "".join(
        "people:\n" if i == 0 else f"  - id: p{i}\n    name: Person {i}\n    aliases: [P{i}]\n"
        for i in range(300)
    ),
    "c/20-more.jsonl": '{"record": "person", "id": "j1", "name": "J"}\n',
    "c/30-events.yaml": "events:\n"
    + "".join(
        f"  - id: e{i}\n    title: Event {i}\n    date: 2020-01-0{i % 9 + 1}\n" for i in range(400)
    ),
    "c/40-broken.yaml": "people:\n  - id: b\n    name: [unclosed\n",
    "c/50-sources.yaml": "sources:\n"
    + "".join(
        f"  - id: s{i}\n    title: 'Source {i}: yes'\n    confidential: true\n" for i in range(200)
    ),
}


def _case(tmp_path):
    for name, text in FILES.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return [str(tmp_path / "c")]


def _read(paths):
    inp = RecordInput.from_paths(paths)
    cases, marked = inp.prescan()
    items = [repr(x) for x in inp]
    return [repr(c) for c in cases], sorted(marked), items


@pytest.fixture
def forking(monkeypatch):
    # (pytest may run threads of its own; the child only parses and leaves)
    monkeypatch.setattr(ahead, "_can_fork", lambda: True)


def test_the_childs_files_read_as_the_process_reads_them(tmp_path, forking, monkeypatch):
    paths = _case(tmp_path)
    alone = _read(paths)
    share = ahead._childs_share(paths)
    assert share and len(share) < 4  # some YAML files for the child, the rest parsed here
    taken = []
    real_take = ahead._Child.take

    def take(self, path):
        got = real_take(self, path)
        if got is not None:
            taken.append(path)
        return got

    monkeypatch.setattr(ahead._Child, "take", take)
    with ahead.parsing(paths):
        assert ahead._current is not None
        pid = ahead._current.pid
        together = _read(paths)
    assert sorted(taken) == sorted(share)
    assert together == alone
    assert any("malformed YAML" in x for x in together[2])  # a problem comes through as well
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # the child was waited for
    assert ahead._current is None


def test_a_child_that_fails_leaves_the_parsing_to_the_process(tmp_path, forking, monkeypatch):
    paths = _case(tmp_path)
    alone = _read(paths)

    def fail(files, fd):
        raise MemoryError

    monkeypatch.setattr(ahead, "_parse_in_child", fail)
    with ahead.parsing(paths):
        assert _read(paths) == alone
        assert ahead._current.pipe.closed  # (it read the end of the pipe, then parsed here)


def test_no_child_when_threads_run_or_when_asked(tmp_path, monkeypatch):
    import threading

    paths = _case(tmp_path)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with ahead.parsing(paths):
            assert ahead._current is None
    finally:
        stop.set()
        t.join()
    monkeypatch.setenv("KG_PARSE_AHEAD", "0")
    assert not ahead._can_fork()
