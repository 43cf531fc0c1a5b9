"""`highlight demo` runs every stage on its own synthetic data and ends with events and a score."""

from click.testing import CliRunner

from cli import highlight


def test_demo_ends_with_events_and_a_score(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(highlight, ["demo", "--out", str(out), "--games", "4", "--minutes", "1",
                                            "--epochs", "3"])
    assert result.exit_code == 0, result.output
    assert "demo score: loose average-mAP " in result.output.split("SoccerNet average-mAP")[-1]
    assert (out / "weights" / "highlighter-demo" / "model.safetensors").exists()
    predictions = list((out / "predictions").rglob("results_spotting.json"))
    assert len(predictions) == 1 and '"predictions"' in predictions[0].read_text()
    assert "SoccerNet average-mAP" in result.output and "start–end" in result.output


def test_demo_needs_three_games(tmp_path):
    result = CliRunner().invoke(highlight, ["demo", "--out", str(tmp_path), "--games", "2"])
    assert result.exit_code == 2 and "at least 3 games" in result.output
