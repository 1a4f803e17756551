"""Search of the service catalogue that works for Chinese, the same on PostgreSQL and SQLite.

PostgreSQL's text search parsers see a run of Chinese characters as one word and
pg_trgm cannot serve the one- and two-character queries people type (结婚, 社保),
so the text is cut up here, in Python, and stored as rows of
``ServiceSearchToken(item, token, weight, star_level)`` (``services.search_text``
describes the kinds of token). A search is one indexed query on either database::

    token IN (query tokens) → GROUP BY item → HAVING enough of them
    → within the caller's queryset → ORDER BY SUM(weight), star level, item id

The query is first searched as typed; only when that finds nothing is it searched
again with the fuzzy tokens (single characters, characters two apart, toneless
pinyin), which find 结婚登记 for 结昏登记 or 结婚登录.

A page may ask for one result per service (基本编码) that many regions implement
(``one_per_service``): in the same query the matches are joined to their items
and grouped by basic code, and only the page's services are joined to their
regions to pick the item each leads to.

The index holds published items only. Whatever changes an item's name, aliases,
summary, star level or status calls ``reindex([item_id])`` (a retired or deleted
item loses its tokens); a full ``reindex()`` rebuilds everything. ``Synonym`` rows
apply at query time and need no reindex.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IContains

from services.models import Department, Region, ServiceItem, ServiceSearchToken, Synonym
from services.search_text import (
    QueryPlan,
    compact,
    normalise_query,
    normalise_text,
    query_plan,
    similarity,
    split_list,
)
from services.search_text import document_tokens as text_document_tokens
from services.selectors import catalogue_generation, region_preference_sql

REINDEX_BATCH_SIZE = 500
INSERT_BATCH_SIZE = 1000  # rows per INSERT: 4,000 parameters, well within SQLite's limit
# How many of the best partial matches a "did you mean" considers, and how close one must be.
SUGGESTION_CANDIDATES = 20
SUGGESTION_MIN_SIMILARITY = 0.5
# Synonym terms compared for a suggestion: the table is small, and this keeps it bounded.
SUGGESTION_MAX_SYNONYMS = 2000
SEARCH_CACHE_SECONDS = 600  # as long as facet counts

T = TypeVar("T")


@dataclass(frozen=True)
class SearchResults:
    item_ids: list[int]  # ranked, best first, the requested page only
    total: int  # number of matching items (of services, one per service)
    suggestion: str | None  # "did you mean", only when total == 0
    # One service per result (``one_per_service``): how many matching items offer each result's service.
    implementations: dict[int, int] = field(default_factory=dict)


_EMPTY = SearchResults(item_ids=[], total=0, suggestion=None)


def search_items(
    query: str,
    *,
    queryset: QuerySet[ServiceItem] | None = None,
    offset: int = 0,
    limit: int = 20,
    one_per_service: Sequence[str] | None = None,
) -> SearchResults:
    """Published items matching ``query`` within ``queryset``, best first: name > alias > summary.

    Ties are ranked by star level (higher first), then item id, on every database.
    With ``one_per_service`` (region codes, most preferred first; may be empty)
    a service (基本编码) that many regions implement is one result: the item of
    the first preferred region, else of the lowest region code, ranked by the
    best match among them (the rule of ``selectors.one_per_service``).
    Runs two queries (synonyms, results); a third when the query as typed finds
    nothing and is searched fuzzily; two more for a "did you mean" when that finds
    nothing either; and one more per search when the page is past the end.
    """
    prepared = _prepared(query, queryset)
    if prepared is None:
        return _EMPTY
    text, readings, base = prepared
    return _search(text, readings, base=base, offset=offset, limit=limit, one_per_service=one_per_service)


def cached_search_items(
    query: str,
    *,
    queryset: QuerySet[ServiceItem] | None = None,
    offset: int = 0,
    limit: int = 20,
    one_per_service: Sequence[str] | None = None,
) -> SearchResults:
    """``search_items``, kept in the cache until the catalogue changes: for pages and the API.

    A broad query (行政处罚) sums the tokens of thousands of items, which costs more
    than the rest of its page. The index changes only with the catalogue (every
    reindex is followed by ``catalogue_changed``), so the key carries the catalogue
    generation; synonyms apply at query time, so they are read on every search
    and the readings they give are part of the key. A hit runs the synonyms query
    only.
    """
    prepared = _prepared(query, queryset)
    if prepared is None:
        return _EMPTY
    text, readings, base = prepared
    within_sql, within_params = base.query.sql_with_params()
    preferred = tuple(one_per_service) if one_per_service is not None else None
    described = repr((readings, base.db, within_sql, within_params, max(offset, 0), max(limit, 0), preferred))
    digest = hashlib.sha256(described.encode()).hexdigest()[:32]
    key = f"search:{catalogue_generation()}:{digest}"
    results = cache.get(key)
    if results is None:
        results = _search(text, readings, base=base, offset=offset, limit=limit, one_per_service=one_per_service)
        cache.set(key, results, timeout=SEARCH_CACHE_SECONDS)
    return results


def _prepared(
    query: str, queryset: QuerySet[ServiceItem] | None
) -> tuple[str, list[str], QuerySet[ServiceItem]] | None:
    """The normalised query, its readings (itself and its synonyms') and the items searched; None: nothing to find."""
    text = normalise_query(query)
    if not text or not query_plan([text]).tokens:
        return None
    base = queryset if queryset is not None else ServiceItem.objects.all()
    if base.query.is_empty():
        return None
    return text, [text, *_synonym_readings(text, using=base.db)], base


def _search(
    text: str,
    readings: list[str],
    *,
    base: QuerySet[ServiceItem],
    offset: int,
    limit: int,
    one_per_service: Sequence[str] | None = None,
) -> SearchResults:
    offset, limit = max(offset, 0), max(limit, 0)
    searched: frozenset[str] = frozenset()
    for is_fuzzy in (False, True):
        plan = query_plan(readings, is_fuzzy=is_fuzzy)
        if plan.tokens == searched:
            break  # nothing fuzzier to try, as for "jhdj"
        searched = plan.tokens
        matches = _MatchQuery(plan, base=base, one_per_service=one_per_service)
        item_ids, total, implementations = matches.page(offset=offset, limit=limit)
        if not item_ids and (offset > 0 or limit == 0):
            total = matches.count()
        if total:
            return SearchResults(item_ids=item_ids, total=total, suggestion=None, implementations=implementations)
    return SearchResults(item_ids=[], total=0, suggestion=_suggest(text, matches))


def reindex(item_ids: Iterable[int] | None = None) -> int:
    """(Re)build the search tokens of these items (None: every published item); returns items indexed.

    Items that are not published lose their tokens. Works in batches, each in its
    own transaction with its items locked, so two reindexes of one item queue
    instead of colliding.
    """
    if item_ids is None:
        unpublished = ServiceItem.objects.exclude(status=ServiceItem.Status.PUBLISHED).values("pk")
        ServiceSearchToken.objects.filter(item_id__in=unpublished).delete()
        published = ServiceItem.objects.published().order_by("pk").values_list("pk", flat=True)
        batches = _chunks(published.iterator(chunk_size=REINDEX_BATCH_SIZE), REINDEX_BATCH_SIZE)
    else:
        batches = _chunks(sorted(set(item_ids)), REINDEX_BATCH_SIZE)
    return sum(_reindex_batch(batch) for batch in batches)


def unindex(item_ids: Iterable[int]) -> None:
    """Remove these items from search (retired, deleted, or withdrawn)."""
    for batch in _chunks(sorted(set(item_ids)), REINDEX_BATCH_SIZE):
        ServiceSearchToken.objects.filter(item_id__in=batch).delete()


def document_tokens(item: ServiceItem) -> dict[str, int]:
    """The tokens an item is indexed under, with their weights."""
    return text_document_tokens(
        name=item.name,
        aliases=item.aliases,
        summary=item.summary,
        codes=[item.implementation_code, item.basic_code],
    )


@transaction.atomic
def _reindex_batch(item_ids: list[int]) -> int:
    items = list(
        ServiceItem.objects.select_for_update()
        .filter(pk__in=item_ids, status=ServiceItem.Status.PUBLISHED)
        .only("pk", "name", "aliases", "summary", "implementation_code", "basic_code", "star_level")
        .order_by("pk")
    )
    ServiceSearchToken.objects.filter(item_id__in=item_ids).delete()
    rows = (
        (item.pk, token, weight, item.star_level) for item in items for token, weight in document_tokens(item).items()
    )
    for chunk in _chunks(rows, INSERT_BATCH_SIZE):
        _insert_tokens(chunk)
    return len(items)


def _insert_tokens(rows: list[tuple[int, str, int, int]]) -> None:
    """One multi-row INSERT: a third of the time bulk_create takes for the same rows."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in ("item_id", "token", "weight", "star_level"))
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(ServiceSearchToken._meta.db_table)} ({columns}) VALUES {values}",  # noqa: S608
            [value for row in rows for value in row],
        )


def _chunks(values: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(values)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _synonym_readings(text: str, *, using: str) -> list[str]:
    """The query with each synonym term it contains replaced by each of its expansions."""
    readings: list[str] = []
    synonyms = Synonym.objects.using(using).filter(IContains(Value(text), F("term"))).order_by("term")
    for term, expansions in synonyms.values_list("term", "expansions"):
        normal_term = normalise_text(term)
        if normal_term and normal_term in text:
            readings.extend(
                text.replace(normal_term, normalise_text(expansion)) for expansion in split_list(expansions)
            )
    return readings


class _MatchQuery:
    """The SQL of one search, the same text on PostgreSQL and SQLite.

    Raw SQL because the ORM cannot aggregate the tokens in a subquery and rank
    on that. Only table and column names are put into the text; every value,
    those of the caller's queryset included, is a parameter.
    """

    def __init__(
        self, plan: QueryPlan, *, base: QuerySet[ServiceItem], one_per_service: Sequence[str] | None = None
    ) -> None:
        self.plan = plan
        self.using = base.db
        self.preferred_regions = tuple(one_per_service) if one_per_service is not None else None
        quote = connections[self.using].ops.quote_name
        self.item_table = quote(ServiceItem._meta.db_table)
        self.token_table = quote(ServiceSearchToken._meta.db_table)
        self.department_table = quote(Department._meta.db_table)
        self.region_table = quote(Region._meta.db_table)
        self.base_sql = ""
        self.base_params: tuple[Any, ...] = ()
        # The index holds only published items: a queryset that asks for no more needs no subquery.
        if base.query.where not in (ServiceItem.objects.all().query.where, ServiceItem.objects.published().query.where):
            # Correlated, so that SQLite looks up each match instead of reading every item.
            within = base.filter(pk=RawSQL("search_match.item_id", ())).order_by().values("pk")
            self.base_sql, self.base_params = within.query.get_compiler(using=self.using).as_sql()

    def _reading(self, tokens: Sequence[str], min_matches: int) -> tuple[str, list[Any]]:
        if len(tokens) == 1:
            # One token, one row per item: nothing to group, which halves the time of 证 or 婚.
            sql = f"SELECT item_id, weight AS score, star_level FROM {self.token_table} WHERE token = %s"  # noqa: S608
            return sql, [tokens[0]]
        placeholders = ", ".join(["%s"] * len(tokens))
        sql = (
            "SELECT item_id, SUM(weight) AS score, MAX(star_level) AS star_level "  # noqa: S608
            f"FROM {self.token_table} WHERE token IN ({placeholders}) "
            "GROUP BY item_id HAVING COUNT(*) >= %s"
        )
        return sql, [*tokens, min_matches]

    def _matched(self, *, is_relaxed: bool = False) -> tuple[str, list[Any]]:
        """Items that match a reading, within the queryset: item_id, score (of the best reading), star_level.

        Relaxed: items that have any token at all (but a single character, which
        too many have), for a "did you mean".
        """
        if is_relaxed:
            tokens = sorted(token for token in self.plan.tokens if len(token) > 1) or sorted(self.plan.tokens)
            sql, params = self._reading(tokens, 1)
        elif len(self.plan.readings) == 1:
            sql, params = self._reading(self.plan.readings[0].tokens, self.plan.readings[0].min_matches)
        else:
            parts = [self._reading(reading.tokens, reading.min_matches) for reading in self.plan.readings]
            sql = (
                "SELECT item_id, MAX(score) AS score, MAX(star_level) AS star_level "  # noqa: S608
                f"FROM ({' UNION ALL '.join(part for part, _ in parts)}) readings GROUP BY item_id"
            )
            params = [param for _, part_params in parts for param in part_params]
        if self.base_sql:
            sql = f"SELECT * FROM ({sql}) search_match WHERE EXISTS ({self.base_sql})"  # noqa: S608
            params.extend(self.base_params)
        return sql, params

    def _ranked(self, *, is_relaxed: bool = False) -> tuple[str, str, list[Any]]:
        """The WITH clause of the matches, the name of the CTE that holds one row per result, its parameters.

        One per service: ``offered`` joins the matches to their items (basic code,
        department) once, and ``services`` groups them by basic code (a hash
        aggregate, no sort of every match): best score, best star level, lowest
        item id (to break ties) and how many items offer it.
        """
        matched_sql, params = self._matched(is_relaxed=is_relaxed)
        if self.preferred_regions is None or is_relaxed:
            return f"WITH matched AS ({matched_sql})", "matched", params
        sql = (
            f"WITH matched AS ({matched_sql}), "  # noqa: S608
            "offered AS (SELECT matched.item_id, matched.score, matched.star_level, item.basic_code, "
            f"item.department_id FROM matched JOIN {self.item_table} item ON item.id = matched.item_id "
            "WHERE item.status = %s), "
            "services AS (SELECT basic_code, MAX(score) AS score, MAX(star_level) AS star_level, "
            "MIN(item_id) AS item_id, COUNT(*) AS implementations FROM offered GROUP BY basic_code)"
        )
        return sql, "services", [*params, ServiceItem.Status.PUBLISHED.value]

    def _service_page(self, *, offset: int, limit: int) -> tuple[str, list[Any]]:
        """A page of services, each as the item the visitor is led to, with its number of items and the total.

        Only the page's services are placed: the item of the first preferred
        region, else of the lowest region code, else the lowest id (the rule of
        ``selectors.one_per_service``).
        """
        with_sql, _source, params = self._ranked()
        preference_sql, preference_params = region_preference_sql("region.code", self.preferred_regions or ())
        sql = (
            f"{with_sql}, "  # noqa: S608
            "service_page AS (SELECT * FROM services "
            "ORDER BY score DESC, star_level DESC, item_id ASC LIMIT %s OFFSET %s), "
            "placed AS (SELECT offered.item_id, service_page.score, service_page.star_level, "
            "service_page.item_id AS first_item_id, service_page.implementations, "
            f"ROW_NUMBER() OVER (PARTITION BY service_page.basic_code ORDER BY {preference_sql}, region.code, "
            "offered.item_id) AS place "
            "FROM service_page JOIN offered ON offered.basic_code = service_page.basic_code "
            f"JOIN {self.department_table} department ON department.id = offered.department_id "
            f"JOIN {self.region_table} region ON region.id = department.region_id) "
            "SELECT item_id, implementations, (SELECT COUNT(*) FROM services) AS total FROM placed WHERE place = 1 "
            "ORDER BY score DESC, star_level DESC, first_item_id ASC"
        )
        return sql, [*params, limit, offset, *preference_params]

    def _page(
        self, *, columns: str, offset: int, limit: int, is_relaxed: bool = False, with_total: bool = False
    ) -> tuple[str, list[Any]]:
        """A page of the ranked items with their number, joined to the items (leaving out any not published).

        The matches are a CTE used twice, counted and sorted: PostgreSQL then
        materialises them once. (With ``COUNT(*) OVER ()`` under the LIMIT it
        underestimates the work and probes the items one by one.) With ``with_total``
        the number of matches is the last column.
        """
        with_sql, source, params = self._ranked(is_relaxed=is_relaxed)
        if with_total:
            columns = f"{columns}, (SELECT COUNT(*) FROM {source}) AS total"  # noqa: S608
        sql = (
            f"{with_sql} "  # noqa: S608
            f"SELECT {columns} FROM ("
            f"SELECT * FROM {source} ORDER BY score DESC, star_level DESC, item_id ASC LIMIT %s OFFSET %s"
            f") page JOIN {self.item_table} item ON item.id = page.item_id "
            "WHERE item.status = %s ORDER BY page.score DESC, page.star_level DESC, page.item_id ASC"
        )
        return sql, [*params, limit, offset, ServiceItem.Status.PUBLISHED.value]

    def _fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def page(self, *, offset: int, limit: int) -> tuple[list[int], int, dict[int, int]]:
        """The item ids of the requested page, the number of matches (0 for a page past the end), and,
        one per service, how many matching items offer each one's service."""
        if limit == 0:
            return [], 0, {}
        if self.preferred_regions is not None:
            rows = self._fetch(*self._service_page(offset=offset, limit=limit))
            implementations = {int(row[0]): int(row[1]) for row in rows}
        else:
            rows = self._fetch(*self._page(columns="page.item_id", offset=offset, limit=limit, with_total=True))
            implementations = {}
        return [int(row[0]) for row in rows], int(rows[0][-1]) if rows else 0, implementations

    def count(self) -> int:
        with_sql, source, params = self._ranked()
        return int(self._fetch(f"{with_sql} SELECT COUNT(*) FROM {source}", params)[0][0])  # noqa: S608

    def near_misses(self, limit: int) -> list[tuple[str, str]]:
        """(name, aliases) of the best items that have any of the tokens at all."""
        sql, params = self._page(columns="item.name, item.aliases", offset=0, limit=limit, is_relaxed=True)
        return [(str(row[0]), str(row[1])) for row in self._fetch(sql, params)]


def _suggest(text: str, matches: _MatchQuery) -> str | None:
    """The item name, alias or synonym term closest to a query that found nothing, or None."""
    candidates: set[str] = set()
    for name, aliases in matches.near_misses(SUGGESTION_CANDIDATES):
        candidates.add(name)
        candidates.update(split_list(aliases))
    terms = Synonym.objects.using(matches.using).order_by("term").values_list("term", flat=True)
    candidates.update(terms[:SUGGESTION_MAX_SYNONYMS])
    typed = compact(text)
    scored = [(similarity(text, candidate), candidate) for candidate in candidates if compact(candidate) != typed]
    best = min(scored, key=lambda pair: (-pair[0], len(pair[1]), pair[1]), default=None)
    if best is None or best[0] < SUGGESTION_MIN_SIMILARITY:
        return None
    return best[1]
