"""Broadcast-like synthetic match frames drawn with OpenCV: deterministic for a game's seed and a time.

Ordinary play is a wide view of a striped pitch with lines, two teams, a ball and a score bug, cut with
close-ups of players, the referee and the crowd. A goal shows the goal mouth with the ball in the net,
then celebrating players, then a replay from another angle; a card shows the referee raising it near a
player; a substitution shows the fourth official's number board and the players at the touchline.
Camera, zoom, kits, lighting, noise and advertising boards vary, so the classes are learnable but no
single colour or pixel gives them away.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import cv2
import numpy as np

from highlighter.synth.timeline import SynthEvent

KITS = [(200, 30, 40), (30, 60, 170), (240, 240, 240), (20, 20, 20), (250, 200, 30), (120, 30, 120),
        (240, 120, 20), (90, 170, 230), (130, 20, 30), (60, 60, 60), (230, 90, 150), (20, 110, 90)]
SKIN = [(224, 172, 140), (198, 134, 66), (141, 85, 36), (241, 194, 170)]
TEAM_NAMES = ["ARS", "BAR", "BAY", "JUV", "PSG", "RMA", "LIV", "MIL", "INT", "DOR", "ATM", "CHE", "TOT", "NAP"]
CARD_COLOURS = {"Yellow card": (250, 215, 0), "Red card": (215, 20, 30)}

# how long each event's scenes last around its annotated time (seconds before, after)
SCENE_SPANS = {"goal": (-2.0, 2.5), "celebration": (2.5, 6.0), "goal_replay": (6.0, 10.0),
               "card": (-1.5, 4.5), "card_replay": (4.5, 7.5), "substitution": (-2.0, 5.0)}
#: times (relative to the event) of the replay frames a SoccerNet-v3 tree links to each action
REPLAY_OFFSETS = {"Goal": (7.0, 8.5), "Yellow card": (5.5,), "Red card": (5.5,), "Yellow->red card": (5.5,)}


@dataclass(frozen=True)
class GameStyle:
    """What stays fixed for a game: teams, kits, pitch shade, lighting, boards."""

    seed: int
    home_name: str
    away_name: str
    home: tuple[int, int, int]
    away: tuple[int, int, int]
    keeper: tuple[int, int, int]
    referee: tuple[int, int, int]
    grass: tuple[int, int, int]
    light: float
    boards: tuple[tuple[int, int, int], ...]

    @classmethod
    def draw(cls, rng: np.random.Generator) -> "GameStyle":
        """A random style (kits distinct from each other)."""
        kits = rng.choice(len(KITS), size=4, replace=False)
        names = rng.choice(len(TEAM_NAMES), size=2, replace=False)
        grass = (int(rng.integers(40, 70)), int(rng.integers(110, 160)), int(rng.integers(40, 70)))
        boards = tuple(tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(6))
        return cls(int(rng.integers(2**31)), TEAM_NAMES[names[0]], TEAM_NAMES[names[1]], KITS[kits[0]],
                   KITS[kits[1]], KITS[kits[2]], KITS[kits[3]], grass, float(rng.uniform(0.75, 1.15)), boards)


@dataclass(frozen=True)
class Scene:
    """A stretch of the broadcast showing one kind of picture."""

    start: float
    end: float
    kind: str  # play, goal, celebration, goal_replay, card, card_replay, substitution, closeup
    event: SynthEvent | None
    variant: int  # picks camera angle, zoom and props


def schedule(events: list[SynthEvent], duration_s: float, rng: np.random.Generator) -> list[Scene]:
    """The scenes of a half: event scenes around each highlight, distractor close-ups in between."""
    scenes: list[Scene] = []
    for event in events:
        kinds = {"Goal": ("goal", "celebration", "goal_replay"), "Substitution": ("substitution",)}.get(
            event.label, ("card", "card_replay") if event.label in CARD_COLOURS or "card" in event.label else ())
        for kind in kinds:
            before, after = SCENE_SPANS[kind]
            scenes.append(Scene(max(event.time_s + before, 0.0), min(event.time_s + after, duration_s), kind, event,
                                int(rng.integers(1 << 16))))
    scenes.sort(key=lambda scene: scene.start)
    trimmed = []
    for scene, following in zip(scenes, scenes[1:] + [None]):
        end = min(scene.end, following.start) if following else scene.end
        if end > scene.start:
            trimmed.append(Scene(scene.start, end, scene.kind, scene.event, scene.variant))
    closeups = []
    time_s = float(rng.uniform(5, 25))
    while time_s < duration_s - 4:
        span = (time_s, time_s + float(rng.uniform(2.5, 4.5)))
        if all(span[1] < s.start - 1 or span[0] > s.end + 1 for s in trimmed):
            closeups.append(Scene(span[0], span[1], "closeup", None, int(rng.integers(1 << 16))))
        time_s += float(rng.uniform(15, 40))
    return sorted(trimmed + closeups, key=lambda scene: scene.start)


class HalfRenderer:
    """``frame_at(t)``: the picture of a synthetic half at ``t`` seconds, the same on every call."""

    def __init__(self, style: GameStyle, events: list[SynthEvent], duration_s: float, width: int, height: int,
                 half: int, score_before: tuple[int, int] = (0, 0)) -> None:
        rng = np.random.default_rng([style.seed, half])
        self.style, self.events, self.duration_s = style, events, duration_s
        self.width, self.height, self.half = width, height, half
        self.scenes = schedule(events, duration_s, rng)
        self._starts = [scene.start for scene in self.scenes]
        self._score_before = score_before
        self._goals = [(e.time_s, e.team) for e in events if e.label == "Goal"]
        self._players = rng.uniform(0, 1, size=(22, 6))  # base x, base y, 4 motion parameters
        self._phase = rng.uniform(0, 2 * np.pi, 4)
        self._crowd = self._texture(rng, (height, width * 3), 60, 170)
        noise = [np.clip(rng.normal(0, 5, (height, width, 3)), -40, 40).astype(np.int16) for _ in range(5)]
        self._noise = [(np.maximum(n, 0).astype(np.uint8), np.maximum(-n, 0).astype(np.uint8)) for n in noise]

    @staticmethod
    def _texture(rng: np.random.Generator, shape: tuple[int, int], low: int, high: int) -> np.ndarray:
        small = rng.integers(low, high, (shape[0] // 3 + 1, shape[1] // 3 + 1, 3)).astype(np.uint8)
        return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)

    def scene_at(self, time_s: float) -> Scene:
        """The scene on screen at ``time_s`` (ordinary play between the scheduled ones)."""
        index = bisect.bisect_right(self._starts, time_s) - 1
        if index >= 0 and time_s < self.scenes[index].end:
            return self.scenes[index]
        return Scene(time_s, time_s, "play", None, 0)

    def frame_at(self, time_s: float) -> np.ndarray:
        """The RGB frame (height x width x 3, uint8) at ``time_s``."""
        scene = self.scene_at(time_s)
        local = time_s - scene.start
        view = np.random.default_rng([self.style.seed, self.half, scene.variant])
        draw = getattr(self, f"_draw_{scene.kind.replace('_replay', '')}")
        image = draw(time_s, local, scene, view)
        if scene.kind.endswith("replay"):
            self._replay_badge(image, view)
        if scene.kind in ("play", "goal", "substitution"):
            self._score_bug(image, time_s)
        lit = cv2.convertScaleAbs(image, alpha=self.style.light)
        brighter, darker = self._noise[int(time_s * 25) % len(self._noise)]
        return cv2.subtract(cv2.add(lit, brighter), darker)

    # --- backgrounds -------------------------------------------------------------------------------

    def _stands(self, image: np.ndarray, bottom: int, pan: float) -> None:
        offset = int(pan * self.width * 2) % (self.width * 2)
        image[:bottom] = self._crowd[: bottom, offset : offset + self.width]
        board_h = max(bottom // 4, 3)
        board_w = self.width // 3
        shift = int(pan * self.width * 3)
        for k in range(-1, 5):
            x0 = k * board_w - shift % board_w
            colour = self.style.boards[(k + shift // board_w) % len(self.style.boards)]
            cv2.rectangle(image, (x0, bottom - board_h), (x0 + board_w - 2, bottom), colour, -1)

    def _grass(self, image: np.ndarray, top: int, pan: float, stripe: int) -> None:
        image[top:] = self.style.grass
        lighter = tuple(min(255, c + 18) for c in self.style.grass)
        offset = int(pan * stripe * 7) % (2 * stripe)
        for x in range(-offset, self.width, 2 * stripe):
            cv2.rectangle(image, (x, top), (x + stripe - 1, self.height), lighter, -1)

    # --- figures -----------------------------------------------------------------------------------

    def _person(self, image: np.ndarray, x: float, feet_y: float, height: float, shirt, shorts=(30, 30, 30),
                arms: str = "down", skin=SKIN[0]) -> tuple[int, int]:
        """A standing player; returns the position of the raised hand when ``arms`` is up."""
        h = height
        head_r = max(int(h * 0.08), 1)
        head = (int(x), int(feet_y - h + head_r))
        torso = ((int(x - h * 0.13), int(feet_y - h * 0.8)), (int(x + h * 0.13), int(feet_y - h * 0.42)))
        thick = max(int(h * 0.06), 1)
        cv2.line(image, (int(x - h * 0.07), int(feet_y - h * 0.3)), (int(x - h * 0.09), int(feet_y)), skin, thick)
        cv2.line(image, (int(x + h * 0.07), int(feet_y - h * 0.3)), (int(x + h * 0.09), int(feet_y)), skin, thick)
        cv2.rectangle(image, (torso[0][0], torso[1][1]), (torso[1][0], int(feet_y - h * 0.28)), shorts, -1)
        cv2.rectangle(image, torso[0], torso[1], shirt, -1)
        shoulder_l, shoulder_r = (torso[0][0], torso[0][1] + thick), (torso[1][0], torso[0][1] + thick)
        hand = (int(x + h * 0.22), int(feet_y - h * 1.05))
        if arms == "up":
            ends = ((int(x - h * 0.25), int(feet_y - h * 1.05)), hand)
        elif arms == "right":
            ends = ((int(x - h * 0.18), int(feet_y - h * 0.45)), hand)
        else:
            ends = ((int(x - h * 0.18), int(feet_y - h * 0.45)), (int(x + h * 0.18), int(feet_y - h * 0.45)))
        cv2.line(image, shoulder_l, ends[0], shirt, thick)
        cv2.line(image, shoulder_r, ends[1], shirt, thick)
        cv2.circle(image, head, head_r, skin, -1)
        return hand

    def _team(self, event: SynthEvent | None, own: bool = True):
        home = event is None or event.team == "home"
        return self.style.home if home == own else self.style.away

    # --- scenes ------------------------------------------------------------------------------------

    def _draw_play(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), np.uint8)
        pan = 0.5 + 0.35 * np.sin(time_s / 23 + self._phase[0])
        zoom = 1.0 + 0.25 * (1 + np.sin(time_s / 31 + self._phase[1])) / 2
        horizon = int(self.height * 0.22)
        self._stands(image, horizon, pan)
        self._grass(image, horizon, pan, max(int(self.width / 9 * zoom), 4))
        scale = self.width * 2.0 * zoom

        def to_screen(px: float, py: float) -> tuple[int, int]:
            return int((px - pan) * scale + self.width / 2), int(horizon + 4 + py * (self.height - horizon - 8))

        white = (235, 235, 235)
        for line_x in (0.0, 0.5, 1.0):
            x = to_screen(line_x, 0)[0]
            cv2.line(image, (x, horizon + 3), (x, self.height), white, 1)
        centre = to_screen(0.5, 0.5)
        cv2.ellipse(image, centre, (int(0.09 * scale), int(0.2 * self.height)), 0, 0, 360, white, 1)
        for box_x, side in ((0.0, 1), (1.0, -1)):
            a, b = to_screen(box_x, 0.22), to_screen(box_x + side * 0.16, 0.78)
            cv2.rectangle(image, a, b, white, 1)
        motion = self._players
        xs = motion[:, 0] * 0.9 + 0.05 + 0.06 * np.sin(time_s * (0.2 + motion[:, 2]) + 6 * motion[:, 3]) \
            + 0.15 * (np.sin(time_s / 23 + self._phase[0]) * 0.5)
        ys = np.clip(motion[:, 1] + 0.08 * np.sin(time_s * (0.15 + motion[:, 4]) + 6 * motion[:, 5]), 0.02, 0.98)
        for index in np.argsort(ys):
            x, y = to_screen(xs[index], ys[index])
            size = self.height * (0.10 + 0.09 * ys[index]) * zoom
            kit = self.style.home if index < 11 else self.style.away
            if index in (0, 11):
                kit = self.style.keeper
            self._person(image, x, y, size, kit)
        ball = to_screen(pan + 0.05 * np.sin(time_s * 1.3), 0.5 + 0.3 * np.sin(time_s * 0.7 + self._phase[2]))
        cv2.circle(image, ball, max(int(self.height * 0.012 * zoom), 1), (250, 250, 250), -1)
        return image

    def _draw_goal(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), np.uint8)
        mirror = bool(view.integers(2))
        zoom = float(view.uniform(0.8, 1.25))
        shift = float(view.uniform(-0.12, 0.12)) * self.width
        horizon = int(self.height * view.uniform(0.2, 0.32))
        self._stands(image, horizon, float(view.uniform(0, 1)))
        self._grass(image, horizon, 0.3, max(int(self.width / 7), 4))
        width = self.width * 0.55 * zoom
        left = self.width / 2 - width / 2 + shift
        top, bottom = int(horizon + self.height * 0.06), int(horizon + self.height * 0.06 + width * 0.33)
        depth = int(width * 0.12)
        net = (205, 205, 205)
        for k in range(0, int(width) + 1, max(int(width / 18), 2)):  # the net behind the frame
            cv2.line(image, (int(left + k), top - depth // 2), (int(left + k + depth * 0.4), bottom - depth), net, 1)
        for k in range(top - depth // 2, bottom - depth + 1, max(int(width / 25), 2)):
            cv2.line(image, (int(left), k), (int(left + width), k), net, 1)
        posts = (250, 250, 250)
        thick = max(int(width / 60), 2)
        cv2.line(image, (int(left), top), (int(left), bottom), posts, thick)
        cv2.line(image, (int(left + width), top), (int(left + width), bottom), posts, thick)
        cv2.line(image, (int(left), top), (int(left + width), top), posts, thick)
        ball_x = left + width * (0.3 + 0.4 * view.uniform())
        ball_y = bottom - depth * 0.8 - (self.height * 0.05 if local < 1.5 else 0)
        self._person(image, left + width * (0.75 - 0.3 * min(local, 2) / 2), bottom + 6, self.height * 0.45,
                     self.style.keeper, arms="up")
        cv2.circle(image, (int(ball_x), int(ball_y)), max(int(width / 40), 2), (250, 250, 250), -1)
        cv2.circle(image, (int(ball_x), int(ball_y)), max(int(width / 40), 2), (40, 40, 40), 1)
        self._person(image, left - width * 0.1, self.height * 0.98, self.height * 0.6, self._team(scene.event))
        return image[:, ::-1].copy() if mirror else image

    def _draw_celebration(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), np.uint8)
        self._stands(image, self.height, float(view.uniform(0, 1)))
        count = int(view.integers(2, 5))
        for k in range(count):
            x = self.width * (k + 0.5 + view.uniform(-0.2, 0.2)) / count
            jump = abs(np.sin(local * 4 + k)) * self.height * 0.05
            self._person(image, x, self.height * 1.15 - jump, self.height * float(view.uniform(0.8, 1.0)),
                         self._team(scene.event), arms="up", skin=SKIN[k % len(SKIN)])
        return image

    def _draw_card(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), np.uint8)
        horizon = int(self.height * view.uniform(0.35, 0.55))
        self._stands(image, horizon, float(view.uniform(0, 1)))
        self._grass(image, horizon, float(view.uniform(0, 1)), max(int(self.width / 5), 4))
        image[:horizon] = cv2.GaussianBlur(image[:horizon], (0, 0), 2)
        mirror = bool(view.integers(2))
        size = self.height * float(view.uniform(0.55, 0.75))
        ref_x = self.width * float(view.uniform(0.3, 0.5))
        self._person(image, ref_x + size * 0.6, self.height * 1.0, size * 0.95, self._team(scene.event),
                     skin=SKIN[int(view.integers(len(SKIN)))])
        raised = min(local / 1.2, 1.0) if scene.kind == "card" else 1.0
        hand = self._person(image, ref_x, self.height * 1.0, size, self.style.referee,
                            arms="right" if raised > 0.5 else "down")
        label = scene.event.label
        colour = CARD_COLOURS.get(label, (250, 215, 0) if local < 2 else (215, 20, 30))
        if raised > 0.5:
            w, h = int(size * 0.2), int(size * 0.28)
            cv2.rectangle(image, (hand[0] - w // 2, hand[1] - h), (hand[0] + w // 2, hand[1] + h // 4), colour, -1)
        return image[:, ::-1].copy() if mirror else image

    def _draw_substitution(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), np.uint8)
        horizon = int(self.height * view.uniform(0.3, 0.45))
        self._stands(image, horizon, float(view.uniform(0, 1)))
        self._grass(image, horizon, float(view.uniform(0, 1)), max(int(self.width / 6), 4))
        line_y = int(self.height * view.uniform(0.7, 0.85))
        cv2.line(image, (0, line_y), (self.width, line_y), (240, 240, 240), max(self.height // 80, 1))
        size = self.height * float(view.uniform(0.6, 0.85))
        official_x = self.width * float(view.uniform(0.2, 0.4))
        hand = self._person(image, official_x, self.height * 1.02, size, self.style.referee, arms="up")
        board_w, board_h = int(size * 0.36), int(size * 0.3)
        x0, y0 = hand[0] - board_w, hand[1] - board_h // 2
        cv2.rectangle(image, (x0, y0), (x0 + board_w, y0 + board_h), (15, 15, 15), -1)
        numbers = view.integers(2, 30, 2)
        scale = board_h / 40
        cv2.putText(image, f"{numbers[0]:>2}", (x0 + 2, y0 + board_h // 2 - 1), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (230, 30, 30), max(int(scale * 2), 1))
        cv2.putText(image, f"{numbers[1]:>2}", (x0 + 2, y0 + board_h - 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (30, 220, 60), max(int(scale * 2), 1))
        walk = min(local / 7, 1.0) * self.width * 0.25
        kit = self._team(scene.event)
        self._person(image, self.width * 0.62 + walk, line_y + size * 0.15, size * 0.9, kit)
        self._person(image, self.width * 0.85 - walk, line_y + size * 0.25, size * 0.95, kit,
                     shorts=tuple(int(c) for c in view.integers(0, 256, 3)))
        return image

    def _draw_closeup(self, time_s: float, local: float, scene: Scene, view) -> np.ndarray:
        """A close-up with no event: a player, the referee, or the crowd (distractors for the model)."""
        kind = int(view.integers(3))
        if kind == 2:
            image = np.empty((self.height, self.width, 3), np.uint8)
            self._stands(image, self.height, float(view.uniform(0, 1)) + local * 0.01)
            return image
        image = np.empty((self.height, self.width, 3), np.uint8)
        horizon = int(self.height * view.uniform(0.3, 0.55))
        self._stands(image, horizon, float(view.uniform(0, 1)))
        self._grass(image, horizon, float(view.uniform(0, 1)), max(int(self.width / 5), 4))
        shirt = self.style.referee if kind == 1 else (self.style.home if view.integers(2) else self.style.away)
        self._person(image, self.width * float(view.uniform(0.3, 0.7)), self.height * 1.05,
                     self.height * float(view.uniform(0.75, 1.0)), shirt, arms="down")
        return image

    # --- overlays ----------------------------------------------------------------------------------

    def _score_bug(self, image: np.ndarray, time_s: float) -> None:
        home, away = self._score_before
        for goal_time, team in self._goals:
            if goal_time + 6 <= time_s:
                home, away = (home + 1, away) if team == "home" else (home, away + 1)
        minute = int(time_s // 60) + (45 if self.half == 2 else 0)
        text = f"{self.style.home_name} {home}-{away} {self.style.away_name}  {minute:02d}:{int(time_s % 60):02d}"
        scale = self.height / 560
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(image, (4, 4), (10 + w, 10 + h), (20, 30, 70), -1)
        cv2.putText(image, text, (7, 7 + h), cv2.FONT_HERSHEY_SIMPLEX, scale, (240, 240, 240), 1, cv2.LINE_AA)

    def _replay_badge(self, image: np.ndarray, view) -> None:
        scale = self.height / 400
        x = self.width - int(self.width * 0.22)
        cv2.rectangle(image, (x, 6), (self.width - 6, 6 + int(self.height * 0.08)), (200, 20, 60), -1)
        cv2.putText(image, "REPLAY", (x + 3, 3 + int(self.height * 0.07)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (250, 250, 250), 1, cv2.LINE_AA)
