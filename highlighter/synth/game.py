"""Write synthetic SoccerNet games: half videos + Labels-v2.json, and Frames-v3.zip + Labels-v3.json."""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
from rich.progress import Progress

from highlighter.atomic import atomic_write
from highlighter.provenance import SYNTHETIC_COMMENT, SYNTHETIC_KEY
from highlighter.soccernet.files import LABELS_FILE, V3_FRAMES, V3_LABELS, game_time
from highlighter.config.settings import SynthSettings
from highlighter.soccernet.games import half_video_name
from highlighter.synth.audio import crowd_track, load_crowd_stats, write_wav
from highlighter.synth.render import REPLAY_OFFSETS, GameStyle, HalfRenderer
from highlighter.synth.timeline import SynthEvent, draw_half, load_event_stats
from highlighter.video.encode import encode_frames

LEAGUES = (("england_epl", "2016-2017"), ("spain_laliga", "2015-2016"), ("italy_serie-a", "2016-2017"),
           ("germany_bundesliga", "2015-2016"), ("france_ligue-1", "2016-2017"))
FPS = 25


def synthesize(out: str | Path, settings: SynthSettings, progress: Progress | None = None) -> list[Path]:
    """Write ``settings.games`` games under ``out/<league>/<season>/<game>/``; returns the game folders."""
    out = Path(out)
    stats = load_event_stats()
    folders = []
    for number in range(settings.games):
        rng = np.random.default_rng([settings.seed, number])
        style = GameStyle.draw(rng)
        halves = [draw_half(rng, stats, settings.minutes * 60, settings.density) for _ in (1, 2)]
        league, season = LEAGUES[number % len(LEAGUES)]
        goals = [sum(e.label == "Goal" and e.team == side for h in halves for e in h) for side in ("home", "away")]
        name = f"2016-0{1 + number % 9}-{10 + number % 18:02d} - 20-00 {style.home_name} {goals[0]} - {goals[1]} {style.away_name}"
        folder = out / league / season / name
        write_game(folder, f"{league}/{season}/{name}", style, halves, settings, progress)
        folders.append(folder)
    return folders


def write_game(folder: Path, url: str, style: GameStyle, halves: list[list[SynthEvent]], settings: SynthSettings,
               progress: Progress | None = None) -> None:
    """One game folder: both halves rendered to video with a crowd track, their labels, and the v3 frames of
    their actions."""
    folder.mkdir(parents=True, exist_ok=True)
    duration = settings.minutes * 60
    crowd = load_crowd_stats()
    audio_rng = np.random.default_rng([settings.seed, zlib.crc32(url.encode())])
    stadium_db = float(audio_rng.uniform(*crowd["stadium_db"]))
    renderers = []
    score = (0, 0)
    for half, events in enumerate(halves, start=1):
        renderer = HalfRenderer(style, events, duration, *settings.frame_size, half, score)
        renderers.append(renderer)
        score = (score[0] + sum(e.label == "Goal" and e.team == "home" for e in events),
                 score[1] + sum(e.label == "Goal" and e.team == "away" for e in events))
        frame_count = int(round(duration * FPS))
        task = progress.add_task(f"{folder.name[:28]} half {half}", total=frame_count) if progress else None

        def frames(renderer=renderer, task=task):
            for index in range(frame_count):
                yield renderer.frame_at(index / FPS)
                if progress is not None:
                    progress.advance(task)

        wav = write_wav(folder / f".crowd-{half}.wav", crowd_track(audio_rng, events, duration, settings.density,
                                                                   crowd, stadium_db), int(crowd["sample_rate"]))
        try:
            encode_frames(folder / half_video_name(half, settings.frame_size[1]), frames(), *settings.frame_size, FPS,
                          input_args=["-i", str(wav)],
                          output_args=["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "50",
                                       "-c:a", "aac", "-b:a", "48k", "-metadata", f"comment={SYNTHETIC_COMMENT}"])
        finally:
            wav.unlink(missing_ok=True)
    with atomic_write(folder / LABELS_FILE) as handle:
        json.dump(labels_v2(url, style, halves, score), handle, indent=1)
    write_frames_v3(folder, url, renderers)


def labels_v2(url: str, style: GameStyle, halves: list[list[SynthEvent]], score: tuple[int, int]) -> dict:
    """The Labels-v2.json document of a synthetic game."""
    annotations = [
        {"gameTime": game_time(half, int(e.time_s * 1000)), "label": e.label, "position": str(int(e.time_s * 1000)),
         "team": e.team, "visibility": "visible" if e.visible else "not shown"}
        for half, events in enumerate(halves, start=1) for e in events
    ]
    return {"UrlLocal": url + "/", "UrlYoutube": "", "gameHomeTeam": style.home_name, "gameAwayTeam": style.away_name,
            "gameDate": url.split("/")[-1][:10], "gameScore": f"{score[0]} - {score[1]}", "annotations": annotations,
            SYNTHETIC_KEY: True}


def _image_metadata(event: SynthEvent, half: int, time_s: float, image_type: str, renderer: HalfRenderer) -> dict:
    return {"label": event.label, "gameTime": game_time(half, int(event.time_s * 1000)), "half": half,
            "position": int(round(time_s * 1000)), "visibility": "visible" if event.visible else "not shown",
            "imageType": image_type, "width": renderer.width, "height": renderer.height, "team": event.team}


def write_frames_v3(folder: Path, url: str, renderers: list[HalfRenderer]) -> None:
    """Frames-v3.zip (action frames ``<n>.png``, replay frames ``<n>_<k>.png``) and Labels-v3.json.

    Every visible event shown on screen at its time gets an action frame (background events that fall
    inside another event's scenes are left out, so no frame shows one thing and is labelled another);
    its replays are the frames of its own replay scene.
    """
    actions, replays = {}, {}
    zip_path = folder / V3_FRAMES
    with atomic_write(zip_path, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
        number = 0
        for half, renderer in enumerate(renderers, start=1):
            for event in renderer.events:
                scene = renderer.scene_at(event.time_s)
                if not event.visible or scene.event not in (None, event) or (scene.event is None and scene.kind != "play"):
                    continue
                name = f"{number}.png"
                archive.writestr(name, _png(renderer.frame_at(event.time_s)))
                linked = []
                for offset in REPLAY_OFFSETS.get(event.label, ()):
                    replay_scene = renderer.scene_at(event.time_s + offset)
                    if replay_scene.event is not event or not replay_scene.kind.endswith("replay"):
                        continue
                    replay_name = f"{number}_{len(linked)}.png"
                    archive.writestr(replay_name, _png(renderer.frame_at(event.time_s + offset)))
                    replays[replay_name] = {"imageMetadata": _image_metadata(event, half, event.time_s + offset, "replay",
                                                                             renderer),
                                            "bboxes": [], "lines": [], "linked_action": name}
                    linked.append(replay_name)
                actions[name] = {"imageMetadata": _image_metadata(event, half, event.time_s, "action", renderer),
                                 "bboxes": [], "lines": [], "linked_replays": linked}
                number += 1
    document = {"GameMetadata": {"UrlLocal": url + "/", "list_actions": list(actions), "list_replays": list(replays),
                                 SYNTHETIC_KEY: True},
                "actions": actions, "replays": replays}
    with atomic_write(folder / V3_LABELS) as handle:
        json.dump(document, handle, indent=1)


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()
