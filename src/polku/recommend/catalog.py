"""Catalogue import: validate product rows from CSV or JSON; keep the good rows, report each bad
one by line (or array position) and field. Also the synthetic demo catalogue for the Instacart
product ids (the sample has no names or prices: ours are made up and marked synthetic)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlparse

FIELDS = ("product_id", "name", "category", "price", "currency", "description", "image_url", "url", "available")
REQUIRED = ("product_id", "name", "category")
MAX_TEXT = 2000
TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", ""}


@dataclass
class RowError:
    line: int  # CSV line number (header is line 1) or JSON array position (1-based)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.reason}"


@dataclass
class CatalogImport:
    products: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class CatalogFileError(ValueError):
    """The file as a whole cannot be read."""


def validate_row(raw: dict, line: int) -> tuple[dict | None, list[RowError]]:
    errors: list[RowError] = []
    out: dict = {}
    for f in REQUIRED:
        value = raw.get(f)
        if value is None or str(value).strip() == "":
            errors.append(RowError(line, f, "required"))
        else:
            out[f] = str(value).strip()
    for f in ("name", "category", "description", "currency"):
        if f in raw and raw[f] is not None and len(str(raw[f])) > MAX_TEXT:
            errors.append(RowError(line, f, f"longer than {MAX_TEXT} characters"))
    if raw.get("description") not in (None, ""):
        out["description"] = str(raw["description"]).strip()
    if raw.get("currency") not in (None, ""):
        cur = str(raw["currency"]).strip().upper()
        if len(cur) != 3 or not cur.isalpha():
            errors.append(RowError(line, "currency", "must be a 3-letter code such as EUR"))
        out["currency"] = cur
    price = raw.get("price")
    if price not in (None, ""):
        try:
            value = Decimal(str(price).strip())
            if not value.is_finite() or value < 0:
                raise InvalidOperation
            out["price"] = value
        except InvalidOperation:
            errors.append(RowError(line, "price", f"{price!r} is not a non-negative number"))
    for f in ("image_url", "url"):
        value = raw.get(f)
        if value not in (None, ""):
            u = urlparse(str(value).strip())
            if u.scheme not in ("https", "http") or not u.netloc:
                errors.append(RowError(line, f, "must be an http(s) URL"))
            out[f] = str(value).strip()
    avail = raw.get("available")
    if avail is None or (isinstance(avail, str) and avail.strip() == ""):
        out["available"] = True
    elif isinstance(avail, bool):
        out["available"] = avail
    elif str(avail).strip().lower() in TRUE:
        out["available"] = True
    elif str(avail).strip().lower() in FALSE:
        out["available"] = False
    else:
        errors.append(RowError(line, "available", f"{avail!r} is not true/false"))
    unknown = sorted(set(raw) - set(FIELDS) - {"synthetic"})
    for f in unknown:
        errors.append(RowError(line, f, f"unknown field (known: {', '.join(FIELDS)})"))
    if raw.get("synthetic") is not None:
        out["synthetic"] = str(raw["synthetic"]).strip().lower() in TRUE or raw["synthetic"] is True
    return (None if errors else out), errors


def parse(text: str, fmt: str) -> CatalogImport:
    """``fmt`` is "csv" or "json" (a list of objects, or {"products": [...]})."""
    result = CatalogImport()
    seen: dict[str, int] = {}
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogFileError(f"not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("products")
        if not isinstance(data, list):
            raise CatalogFileError('JSON must be a list of products or {"products": [...]}')
        rows = [(i, r) for i, r in enumerate(data, start=1)]
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "product_id" not in reader.fieldnames:
            raise CatalogFileError(f"CSV header must include product_id (found: {', '.join(reader.fieldnames or [])})")
        rows = [(reader.line_num, r) for r in reader]
    else:
        raise CatalogFileError(f"unknown format {fmt!r}: use .csv or .json")
    for line, raw in rows:
        if not isinstance(raw, dict):
            result.errors.append(RowError(line, "(row)", "must be an object"))
            continue
        if None in raw:  # CSV row with more cells than header columns
            result.errors.append(RowError(line, "(row)", "more values than header columns"))
            continue
        product, errors = validate_row(raw, line)
        if product and product["product_id"] in seen:
            errors.append(RowError(line, "product_id", f"duplicate of line {seen[product['product_id']]}"))
            product = None
        result.errors.extend(errors)
        if product:
            seen[product["product_id"]] = line
            result.products.append(product)
    return result


def read_file(path: str | Path) -> CatalogImport:
    path = Path(path)
    if not path.is_file():
        raise CatalogFileError(f"{path}: no such file")
    fmt = path.suffix.lower().lstrip(".")
    return parse(path.read_text(encoding="utf-8-sig"), fmt)


# ------------------------------------------------------------------ synthetic demo catalogue
DEMO_CATEGORIES = {
    "produce": (["Organic", "Fresh", "Crisp", "Ripe"], ["Bananas", "Apples", "Spinach", "Avocados", "Carrots", "Berries"], 0.8, 6),
    "dairy eggs": (["Whole", "Greek", "Aged", "Free-Range"], ["Milk", "Yogurt", "Cheddar", "Eggs", "Butter"], 1.5, 9),
    "bakery": (["Sourdough", "Whole Wheat", "Rye", "Seeded"], ["Bread", "Bagels", "Rolls", "Muffins"], 2, 7),
    "snacks": (["Sea Salt", "Spicy", "Honey", "Baked"], ["Crisps", "Crackers", "Nuts", "Popcorn", "Bars"], 1.5, 6),
    "beverages": (["Sparkling", "Cold Brew", "Herbal", "Citrus"], ["Water", "Coffee", "Tea", "Juice", "Soda"], 1, 8),
    "frozen": (["Frozen", "Family-Size", "Mini", "Classic"], ["Pizza", "Peas", "Ice Cream", "Dumplings"], 2.5, 10),
    "pantry": (["Extra Virgin", "Stone-Ground", "Basmati", "Organic"], ["Olive Oil", "Pasta", "Rice", "Flour", "Beans"], 1.2, 12),
    "meat seafood": (["Grass-Fed", "Wild", "Smoked", "Lean"], ["Beef", "Salmon", "Chicken", "Turkey"], 4, 18),
    "household": (["Eco", "Lavender", "Unscented", "Ultra"], ["Detergent", "Paper Towels", "Dish Soap", "Sponges"], 2, 14),
    "personal care": (["Gentle", "Mint", "Coconut", "Sensitive"], ["Shampoo", "Toothpaste", "Soap", "Lotion"], 2, 11),
}


def demo_product(product_id: str, base_url: str = "https://shop.example") -> dict:
    """Deterministic synthetic content for one product id (same id -> same product)."""
    h = int.from_bytes(hashlib.sha256(str(product_id).encode()).digest()[:8], "big")
    cats = sorted(DEMO_CATEGORIES)
    category = cats[h % len(cats)]
    adjectives, nouns, low, high = DEMO_CATEGORIES[category]
    name = f"{adjectives[(h >> 8) % len(adjectives)]} {nouns[(h >> 16) % len(nouns)]}"
    cents = int(low * 100 + ((h >> 24) % int((high - low) * 100 + 1)))
    price = Decimal(cents - cents % 5 + 4) / 100 if cents % 100 else Decimal(cents) / 100
    return {
        "product_id": str(product_id),
        "name": f"{name} #{product_id}",
        "category": category,
        "price": price,
        "currency": "EUR",
        "description": f"Synthetic demo product for Instacart product id {product_id}; not a real product name or price.",
        "image_url": f"{base_url}/images/{category.replace(' ', '-')}.png",
        "url": f"{base_url}/p/{product_id}",
        "available": True,
        "synthetic": True,
    }


def demo_catalog(product_ids, base_url: str = "https://shop.example") -> list[dict]:
    return [demo_product(p, base_url) for p in dict.fromkeys(str(p) for p in product_ids)]


def write_csv(products: list[dict], out) -> None:
    writer = csv.DictWriter(out, fieldnames=list(FIELDS) + ["synthetic"], extrasaction="ignore")
    writer.writeheader()
    for p in products:
        writer.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in p.items()})
