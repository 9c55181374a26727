"""Unit economics and retention: CAC, payback, LTV, retention, churn, NRR, GRR, LVR.

Each helper is a small pure function of numbers the caller already has. The
conventions are shared:

* Amounts are what a notebook holds: :class:`~salesflow.Money`, or plain
  ``int`` or ``Decimal`` numbers. The amounts of one call are either all
  ``Money`` of one currency (:class:`~salesflow.CurrencyMismatchError`
  otherwise), and an amount comes back as ``Money``; or all plain numbers,
  taken to be in one unstated currency, and an amount comes back as a
  ``Decimal``. Mixing the two is refused: a bare ``150`` beside
  ``Money(1000, 'USD')`` may be dollars, cents or thousands, and guessing
  would hide the slip. A ``float`` amount is refused too (floats cannot hold
  cents exactly), as is a ``bool``; amounts are never negative.
* Rates (gross margin, churn) are ``float``, ``int`` or ``Decimal`` in [0, 1]
  and are converted exactly with ``Decimal(str(rate))`` before they touch
  money, because ``Money * float`` is refused by design. ``80`` for 80 % is
  an error, not a guess.
* Counts are ``int`` (``bool`` is refused) and never negative.
* Ratios come back as ``float`` whatever the amounts were. A formula whose
  denominator is zero returns ``None``: undefined is not 0.
"""

from __future__ import annotations

import numbers
from decimal import Decimal
from typing import overload

from .._money import Money
from ..exceptions import CurrencyMismatchError

__all__ = [
    "cac",
    "cac_payback",
    "churn_rate",
    "gross_revenue_retention",
    "lead_velocity_rate",
    "ltv",
    "ltv_to_cac",
    "net_revenue_retention",
    "retention_rate",
]

Amount = Money | int | Decimal
"""An amount: ``Money``, or a plain ``int`` or ``Decimal`` (all of one kind in a call)."""


def _count(name: str, value: object) -> int:
    # bool is an int subclass, and True customers is a bug rather than a count.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = f"{name} must be an int, got {value!r}."
        raise TypeError(msg)
    if value < 0:
        msg = f"{name} must be zero or more, got {value!r}."
        raise ValueError(msg)
    return int(value)


def _rate(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, float | int | Decimal):
        msg = f"{name} must be a float or Decimal between 0 and 1, got {value!r}."
        raise TypeError(msg)
    # str() first: Decimal(0.1) would carry the binary error of the float into money.
    rate = value if isinstance(value, Decimal) else Decimal(str(value))
    # The negated form also refuses NaN, which compares false with everything.
    if not (rate.is_finite() and 0 <= rate <= 1):
        hint = f"; pass {rate / 100} for {value} %" if rate.is_finite() and 1 < rate <= 100 else ""
        msg = f"{name} must be between 0 and 1, got {value!r}{hint}."
        raise ValueError(msg)
    return rate


def _number(name: str, value: object) -> Decimal:
    """A plain amount as a ``Decimal``: an int or a finite Decimal, never a float or bool."""
    kinds = "must be Money, an int or a Decimal"
    if isinstance(value, bool):
        msg = f"{name} {kinds}, got the bool {value!r}."
        raise TypeError(msg)
    if isinstance(value, float):
        msg = (
            f"{name} {kinds}, not the float {value!r}: floats cannot hold cents exactly; "
            f"pass Decimal({str(value)!r}) or an int."
        )
        raise TypeError(msg)
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            msg = f"{name} must be a finite amount, got {value!r}."
            raise ValueError(msg)
        return value
    msg = f"{name} {kinds}, got {value!r}; e.g. Money('1200', 'USD'), 1200 or Decimal('1200.50')."
    raise TypeError(msg)


def _amounts(**named: object) -> tuple[str | None, dict[str, Decimal]]:
    """The amounts of one call as Decimals, with their currency (``None`` for plain numbers).

    Checks, in argument order, that each is an amount and not negative, that
    ``Money`` and plain numbers are not mixed, and that the ``Money`` share
    one currency.
    """
    currency: str | None = None
    first_money: str | None = None
    first_plain: tuple[str, object] | None = None
    out: dict[str, Decimal] = {}
    for name, value in named.items():
        if isinstance(value, Money):
            amount = value.amount
            if currency is None:
                currency, first_money = value.currency, name
            elif value.currency != currency:
                msg = (
                    f"{name} is in {value.currency} but the other amounts are in {currency}; "
                    "convert them to one currency first."
                )
                raise CurrencyMismatchError(msg, currencies=(currency, value.currency))
        else:
            amount = _number(name, value)
            if first_plain is None:
                first_plain = (name, value)
        if first_money is not None and first_plain is not None:
            plain, number = first_plain
            msg = (
                f"{first_money} is Money but {plain} is a plain number ({number!r}); "
                "pass every amount as Money of one currency, or every amount as an int or Decimal."
            )
            raise TypeError(msg)
        if amount < 0:
            msg = f"{name} must not be negative, got {value!r}."
            raise ValueError(msg)
        out[name] = amount
    return currency, out


def _plain(amount: Decimal) -> Decimal:
    # Decimal division keeps an "ideal" exponent, so 80 / 0.04 comes out as 2E+3.
    exponent = amount.as_tuple().exponent
    return amount.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else amount


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    return None if not denominator else float(numerator / denominator)


def _result(amount: Decimal, currency: str | None) -> Money | Decimal:
    """An amount result: ``Money`` in *currency*, or a plain ``Decimal`` without one."""
    plain = _plain(amount)
    return plain if currency is None else Money(plain, currency)


@overload
def cac(spend: Money, new_customers: int) -> Money | None: ...
@overload
def cac(spend: int | Decimal, new_customers: int) -> Decimal | None: ...
def cac(spend: Amount, new_customers: int) -> Money | Decimal | None:
    """Customer acquisition cost: what one new customer cost to win.

    ``CAC = spend / new_customers``, in the currency of *spend* per customer.

    Which spend to pass is the caller's choice, and the two usual variants give
    different answers: **blended** CAC divides all sales and marketing spend by
    all new customers, organic ones included; **paid** CAC divides paid-channel
    spend by the customers those channels brought. Blended is usually lower
    and can hide a paid channel that loses money. Spend may be media only or
    fully loaded (salaries, tools); say which when you report it.

    Args:
        spend: Sales and marketing spend over the period: ``Money``, or a
            plain ``int`` or ``Decimal``.
        new_customers: Customers acquired in the same period.

    Returns:
        The cost per new customer, unrounded: ``Money`` for a ``Money``
        spend (use ``Money.quantize`` to display), a ``Decimal`` for a plain
        one. ``None`` when there were no new customers: CAC is then
        undefined, not infinite and not 0.

    Raises:
        TypeError: *spend* is a float, a bool or not an amount, or
            *new_customers* is not an int.
        ValueError: *spend* or *new_customers* is negative.

    Examples:
        >>> from decimal import Decimal
        >>> from salesflow import Money
        >>> from salesflow.metrics import cac
        >>> cac(Money(30000, "USD"), 12)
        Money('2500', 'USD')
        >>> cac(30000, 12), cac(Decimal("1000.50"), 3)
        (Decimal('2500'), Decimal('333.50'))
        >>> cac(Money(30000, "USD"), 0) is None
        True
    """
    currency, amounts = _amounts(spend=spend)
    customers = _count("new_customers", new_customers)
    return None if customers == 0 else _result(amounts["spend"] / customers, currency)


def cac_payback(
    cac: Amount, monthly_revenue_per_customer: Amount, gross_margin: float | Decimal
) -> float | None:
    """Months of gross profit from one customer needed to recover its CAC.

    ``months = CAC / (monthly revenue per customer * gross margin)``.

    This is the gross-margin form. Leaving the margin out (``gross_margin=1``)
    gives *revenue* payback, which looks shorter by a factor of 1 / margin.
    Quarterly or annual revenue must be turned into monthly revenue first. The
    simple formula ignores customers who churn before paying back.

    Args:
        cac: The acquisition cost of one customer: ``Money``, or a plain
            ``int`` or ``Decimal``.
        monthly_revenue_per_customer: Average monthly revenue per customer
            (ARPA), of the same kind as *cac* (and in its currency).
        gross_margin: The gross margin as a fraction in [0, 1].

    Returns:
        Months as a float, or ``None`` when revenue * margin is zero: the cost
        is then never paid back, and no number of months is honest.

    Raises:
        TypeError: An amount is a float, a bool or not an amount, ``Money``
            and plain numbers are mixed, or the margin is not a number.
        ValueError: An amount is negative, or the margin is outside [0, 1].
        CurrencyMismatchError: The two amounts are in different currencies.

    Examples:
        >>> from salesflow import Money
        >>> from salesflow.metrics import cac_payback
        >>> cac_payback(Money(2400, "USD"), Money(250, "USD"), 0.8)
        12.0
        >>> cac_payback(2400, 250, 0.8)
        12.0
        >>> cac_payback(Money(2400, "USD"), Money(250, "USD"), 0) is None
        True
    """
    _, amounts = _amounts(cac=cac, monthly_revenue_per_customer=monthly_revenue_per_customer)
    margin = _rate("gross_margin", gross_margin)
    return _ratio(amounts["cac"], amounts["monthly_revenue_per_customer"] * margin)


@overload
def ltv(
    monthly_revenue_per_customer: Money,
    gross_margin: float | Decimal,
    monthly_churn: float | Decimal,
) -> Money | None: ...
@overload
def ltv(
    monthly_revenue_per_customer: int | Decimal,
    gross_margin: float | Decimal,
    monthly_churn: float | Decimal,
) -> Decimal | None: ...
def ltv(
    monthly_revenue_per_customer: Amount,
    gross_margin: float | Decimal,
    monthly_churn: float | Decimal,
) -> Money | Decimal | None:
    """Customer lifetime value: gross profit from a customer over its expected lifetime.

    ``LTV = monthly revenue per customer * gross margin / monthly churn``: the
    expected lifetime is ``1 / churn`` months when churn is constant (3 %
    monthly churn gives 33⅓ months). Revenue and churn must use the same
    period. Variants: *revenue* LTV leaves out the margin (``gross_margin=1``);
    some use revenue churn instead of customer churn. The formula assumes no
    expansion revenue and no discounting.

    Args:
        monthly_revenue_per_customer: Average monthly revenue per customer:
            ``Money``, or a plain ``int`` or ``Decimal``.
        gross_margin: The gross margin as a fraction in [0, 1].
        monthly_churn: The share of customers lost per month, in [0, 1].

    Returns:
        The lifetime value, unrounded: ``Money`` for a ``Money`` revenue, a
        ``Decimal`` for a plain one. ``None`` when churn is 0: the lifetime
        is then infinite and so is the value, which no amount can state. Cap
        the lifetime with a horizon if you need a number.

    Raises:
        TypeError: The revenue is a float, a bool or not an amount, or a
            rate is not a number.
        ValueError: The revenue is negative, or a rate is outside [0, 1].

    Examples:
        >>> from salesflow import Money
        >>> from salesflow.metrics import ltv
        >>> ltv(Money(100, "USD"), 0.8, 0.04)
        Money('2000', 'USD')
        >>> ltv(100, 0.8, 0.04)
        Decimal('2000')
        >>> ltv(Money(100, "USD"), 0.8, 0) is None
        True
    """
    currency, amounts = _amounts(monthly_revenue_per_customer=monthly_revenue_per_customer)
    margin = _rate("gross_margin", gross_margin)
    churn = _rate("monthly_churn", monthly_churn)
    if not churn:
        return None
    return _result(amounts["monthly_revenue_per_customer"] * margin / churn, currency)


def ltv_to_cac(ltv: Amount, cac: Amount) -> float | None:
    """How many times a customer's lifetime value covers its acquisition cost.

    ``LTV:CAC = LTV / CAC`` (a pure ratio). A common target is 3 or more; it
    is a rule of thumb, not a law.

    Args:
        ltv: Lifetime value of a customer (see :func:`ltv`): ``Money``, or a
            plain ``int`` or ``Decimal``.
        cac: Acquisition cost of a customer (see :func:`cac`), of the same
            kind as *ltv* (and in its currency).

    Returns:
        The ratio as a float, or ``None`` when CAC is zero (customers that cost
        nothing to win make the ratio undefined).

    Raises:
        TypeError: An argument is a float, a bool or not an amount, or
            ``Money`` and plain numbers are mixed.
        ValueError: An amount is negative.
        CurrencyMismatchError: The amounts are in different currencies.

    Examples:
        >>> from decimal import Decimal
        >>> from salesflow import Money
        >>> from salesflow.metrics import ltv_to_cac
        >>> ltv_to_cac(Money(7500, "EUR"), Money(2500, "EUR"))
        3.0
        >>> ltv_to_cac(Decimal("7500.00"), 2500)
        3.0
    """
    _, amounts = _amounts(ltv=ltv, cac=cac)
    return _ratio(amounts["ltv"], amounts["cac"])


def retention_rate(
    customers_at_start: int, customers_at_end: int, new_customers: int
) -> float | None:
    """Customer retention rate over a period: the share of starting customers kept.

    ``CRR = (E - N) / S`` with *S* customers at the start, *E* at the end and
    *N* new during the period.

    ``E - N`` counts the starting customers still there only if no new
    customer also left within the period; when some did, it undercounts. The
    **cohort form** (pass ``customers_at_end`` = starting customers still
    active and ``new_customers=0``) avoids this, and it is the only form for
    which ``retention_rate + churn_rate = 1``.

    Args:
        customers_at_start: *S*, customers at the start of the period.
        customers_at_end: *E*, customers at the end of it.
        new_customers: *N*, customers acquired during it.

    Returns:
        A fraction in [0, 1], or ``None`` when there were no customers at the
        start.

    Raises:
        TypeError: A count is not an int.
        ValueError: A count is negative, *E* < *N* (more new customers than
            customers at the end), or *E* - *N* > *S* (more kept than there
            were; count reactivated customers as new).

    Examples:
        >>> from salesflow.metrics import retention_rate
        >>> retention_rate(200, 210, 30)
        0.9
        >>> retention_rate(0, 5, 5) is None
        True
    """
    start = _count("customers_at_start", customers_at_start)
    end = _count("customers_at_end", customers_at_end)
    new = _count("new_customers", new_customers)
    kept = end - new
    if kept < 0:
        msg = (
            f"customers_at_end ({end!r}) is smaller than new_customers ({new!r}); "
            "the end count must include the new customers still active."
        )
        raise ValueError(msg)
    if kept > start:
        msg = (
            f"customers_at_end - new_customers ({kept!r}) is more than customers_at_start "
            f"({start!r}); count reactivated customers in new_customers."
        )
        raise ValueError(msg)
    return None if start == 0 else kept / start


def churn_rate(customers_at_start: int, customers_lost: int) -> float | None:
    """Customer churn rate over a period: the share of starting customers lost.

    ``churn = lost / S``, where *lost* counts customers from the starting
    cohort who left during the period (new customers who came and went are
    not in it). With that definition, ``churn_rate + retention_rate = 1`` in
    the cohort form of :func:`retention_rate`.

    Args:
        customers_at_start: *S*, customers at the start of the period.
        customers_lost: Starting customers lost during the period.

    Returns:
        A fraction in [0, 1], or ``None`` when there were no customers at the
        start.

    Raises:
        TypeError: A count is not an int.
        ValueError: A count is negative, or more customers were lost than
            there were at the start.

    Examples:
        >>> from salesflow.metrics import churn_rate
        >>> churn_rate(200, 10)
        0.05
    """
    start = _count("customers_at_start", customers_at_start)
    lost = _count("customers_lost", customers_lost)
    if lost > start:
        msg = (
            f"customers_lost ({lost!r}) is more than customers_at_start ({start!r}); "
            "count only starting customers who left."
        )
        raise ValueError(msg)
    return None if start == 0 else lost / start


def _revenue(start: Amount, **changes: Amount) -> tuple[Decimal, dict[str, Decimal]]:
    """The starting revenue and the changes, checked as one call's amounts."""
    currency, amounts = _amounts(start=start, **changes)
    begin = amounts["start"]
    lost = amounts["contraction"] + amounts["churned"]
    if lost > begin:
        unit = "" if currency is None else f" {currency}"
        msg = (
            f"contraction + churned ({lost}{unit}) is more than the starting revenue "
            f"({begin}{unit}); a customer cannot lose more revenue than it had."
        )
        raise ValueError(msg)
    return begin, amounts


def net_revenue_retention(
    start: Amount, expansion: Amount, contraction: Amount, churned: Amount
) -> float | None:
    """Net revenue retention (NRR, NDR): revenue kept from existing customers, upsell included.

    ``NRR = (start + expansion - contraction - churned) / start``, a ratio
    (1.1 reads as 110 %). All amounts refer to the customers who were there at
    the start, over one period, usually as recurring revenue (MRR or ARR);
    revenue from new customers is left out. It can exceed 1. The four amounts
    are ``Money`` of one currency or all plain ``int`` / ``Decimal`` numbers.

    Args:
        start: Recurring revenue of the starting customers at the start:
            ``Money``, or a plain ``int`` or ``Decimal``.
        expansion: Revenue they added (upsell, cross-sell, price rises).
        contraction: Revenue they cut (downgrades), as a positive amount.
        churned: Revenue of those who left, as a positive amount.

    Returns:
        The ratio as a float (0 or more), or ``None`` when *start* is zero.

    Raises:
        TypeError: An amount is a float, a bool or not an amount, or
            ``Money`` and plain numbers are mixed.
        ValueError: An amount is negative, or contraction + churned exceeds
            *start*.
        CurrencyMismatchError: The amounts are in different currencies.

    Examples:
        >>> from salesflow import Money
        >>> from salesflow.metrics import net_revenue_retention
        >>> net_revenue_retention(1000, 150, 50, 100)
        1.0
        >>> usd = lambda x: Money(x, "USD")
        >>> net_revenue_retention(usd(100_000), usd(20_000), usd(5_000), usd(5_000))
        1.1
    """
    begin, a = _revenue(start, expansion=expansion, contraction=contraction, churned=churned)
    kept = begin + a["expansion"] - a["contraction"] - a["churned"]
    return _ratio(kept, begin)


def gross_revenue_retention(start: Amount, contraction: Amount, churned: Amount) -> float | None:
    """Gross revenue retention (GRR): revenue kept from existing customers, upsell excluded.

    ``GRR = (start - contraction - churned) / start``. Expansion is left out
    by definition, so GRR never exceeds 1; it shows the losses that a strong
    NRR can hide. The three amounts are ``Money`` of one currency or all plain
    ``int`` / ``Decimal`` numbers.

    Args:
        start: Recurring revenue of the starting customers at the start:
            ``Money``, or a plain ``int`` or ``Decimal``.
        contraction: Revenue they cut (downgrades), as a positive amount.
        churned: Revenue of those who left, as a positive amount.

    Returns:
        A fraction in [0, 1], or ``None`` when *start* is zero.

    Raises:
        TypeError: An amount is a float, a bool or not an amount, or
            ``Money`` and plain numbers are mixed.
        ValueError: An amount is negative, or contraction + churned exceeds
            *start*.
        CurrencyMismatchError: The amounts are in different currencies.

    Examples:
        >>> from salesflow import Money
        >>> from salesflow.metrics import gross_revenue_retention
        >>> gross_revenue_retention(1000, 50, 100)
        0.85
        >>> usd = lambda x: Money(x, "USD")
        >>> gross_revenue_retention(usd(100_000), usd(5_000), usd(5_000))
        0.9
    """
    begin, a = _revenue(start, contraction=contraction, churned=churned)
    return _ratio(begin - a["contraction"] - a["churned"], begin)


def lead_velocity_rate(qualified_this_period: int, qualified_last_period: int) -> float | None:
    """Lead velocity rate (LVR): growth of qualified leads from one period to the next.

    ``LVR = (this - last) / last``, a ratio (0.25 reads as +25 %), usually
    month over month. Keep the definition of "qualified" (MQL, SQL, SQO) and
    the period length fixed, and compare whole periods only.

    Args:
        qualified_this_period: Qualified leads in this period.
        qualified_last_period: Qualified leads in the previous period.

    Returns:
        The growth as a float (-1 or more), or ``None`` when there were no
        qualified leads last period: growth from nothing is undefined.

    Raises:
        TypeError: A count is not an int.
        ValueError: A count is negative.

    Examples:
        >>> from salesflow.metrics import lead_velocity_rate
        >>> lead_velocity_rate(125, 100)
        0.25
        >>> lead_velocity_rate(7, 0) is None
        True
    """
    this = _count("qualified_this_period", qualified_this_period)
    last = _count("qualified_last_period", qualified_last_period)
    return None if last == 0 else (this - last) / last
