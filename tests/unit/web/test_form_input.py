"""Form fields read into the API's request models: errors name the field by its label and the fix."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from orderguard.api.schemas import OrderIn, PreclearanceIn
from orderguard.domain import Side
from orderguard.web.form_input import FormError, form_values, parse_form

GOOD = {"order_id": "web-1", "account": "C-1", "symbol": "AAPL", "side": "buy", "qty": "10", "price": "1.5"}


class TestFormValues:
    def test_trims_and_upper_cases_what_is_asked(self) -> None:
        """Fields are trimmed, absent ones are empty, and only the named ones are upper-cased."""
        form = FormData([("symbol", "  aapl "), ("account", " pa-x "), ("extra", "ignored")])
        values = form_values(form, ("symbol", "account", "qty"), upper=("symbol",))
        assert values == {"symbol": "AAPL", "account": "pa-x", "qty": ""}


class TestParseForm:
    def test_valid_form_becomes_the_api_model(self) -> None:
        """A valid form is the same request the HTTP API would take (numbers parsed, side an enum)."""
        order = parse_form(OrderIn, {**GOOD, "venue": "XNYS"})
        assert order.qty == 10.0
        assert order.side is Side.BUY

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("qty", "0", "Quantity must be more than 0."),
            ("qty", "ten", "Quantity must be a number, such as 100 or 189.5."),
            ("price", "inf", "Limit price must be a finite number."),
            ("side", "hold", "Side must be buy or sell."),
            ("symbol", "", "Symbol is required."),
            ("symbol", "<b>x</b>", "Symbol may hold only letters, digits and . _ : @ -."),
            ("venue", "", "Venue is required."),
        ],
    )
    def test_bad_field_is_named_with_its_fix(self, field: str, value: str, message: str) -> None:
        """Each bad field gets one message that starts with its label on the form and says the fix."""
        with pytest.raises(FormError) as caught:
            parse_form(OrderIn, {**GOOD, "venue": "XNYS", field: value})
        assert caught.value.errors == {field: message}

    def test_errors_never_echo_the_value(self) -> None:
        """What was typed is not repeated back in the messages (it may be anything)."""
        with pytest.raises(FormError) as caught:
            parse_form(PreclearanceIn, {"account": "PA-1", "symbol": "<script>", "side": "buy", "qty": "x9x"})
        assert "<script>" not in str(caught.value)
        assert "x9x" not in str(caught.value)
        assert set(caught.value.errors) == {"symbol", "qty"}
