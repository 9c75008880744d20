"""Related posts: for each post, the posts that share the most tags and register entities with it.

A post's entities are those the register lists it under (it links to them with `entity:`, a tie cites
it, or a tag names them: placard.register.mentions_of). A shared entity counts twice a shared tag (a
company is a narrower subject than "Zhanaozen"); ties go to the post nearest in date. Each tag's posts
are looked at only within WINDOW places of the post in that tag's list, so a tag on every one of
10,000 posts costs 10,000 x 2 x WINDOW steps, not 10,000 squared.
"""

from __future__ import annotations

RELATED = 3  # shown under a post
WINDOW = 40  # neighbours looked at in each of a post's tags (and entities), on either side, by date


def related_posts(posts: tuple, mentions: dict[str, tuple]) -> dict[str, tuple]:
    """Post slug -> up to RELATED other posts, most related first (`posts` newest first; `mentions`: entity -> its posts)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for number, post in enumerate(posts):
        for tag in dict.fromkeys(post.tags):
            groups.setdefault(("tag", tag), []).append(number)
    where = {post.slug: number for number, post in enumerate(posts)}
    for entity, mentioning in sorted(mentions.items()):
        numbers = sorted(where[post.slug] for post in mentioning if post.slug in where)
        if numbers:
            groups[("entity", entity)] = numbers
    member: dict[int, list[tuple[tuple[str, str], int]]] = {}
    for key, numbers in groups.items():
        for place, number in enumerate(numbers):
            member.setdefault(number, []).append((key, place))
    related = {}
    for number, post in enumerate(posts):
        scores: dict[int, int] = {}
        for key, place in member.get(number, ()):
            weight = 2 if key[0] == "entity" else 1
            numbers = groups[key]
            for other in numbers[max(0, place - WINDOW): place + WINDOW + 1]:
                if other != number:
                    scores[other] = scores.get(other, 0) + weight
        best = sorted(scores, key=lambda other: (-scores[other], abs(other - number), other))[:RELATED]
        related[post.slug] = tuple(posts[other] for other in best)
    return related
