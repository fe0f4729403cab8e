"""Personal data masking: each pattern in Russian, Romanian and Bulgarian texts, numbers that are not personal data
left alone, and the service storing masked text by default (raw with `store_raw_text`), exports included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from serve.app import create_app
from serve.db import Ticket
from serve.privacy import mask_pii
from tests.service_support import ServiceModel, bearer, new_key, resources_of, service_settings
from tests.test_service_webhooks import deliver
from triage.cli import app as cli

EMAILS = [
    ("ru", "Пишите на ivan.petrov@mail.ru, отвечу сразу.", "Пишите на [email], отвечу сразу."),
    ("ru", "Мой адрес иван@почта.рф (личный).", "Мой адрес [email] (личный)."),
    ("ro", "Scrieți-mi la ana-maria.popescu@yahoo.ro vă rog.", "Scrieți-mi la [email] vă rog."),
    ("bg", "Пишете ми на g.ivanov+shop@abv.bg или на office@firma.bg.", "Пишете ми на [email] или на [email]."),
]
PHONES = [
    ("ru", "Перезвоните: +7 (912) 345-67-89, жду.", "Перезвоните: [phone], жду."),
    ("ru", "Мой номер 8 912 345 67 89, а рабочий 8 (495) 123-45-67.", "Мой номер [phone], а рабочий [phone]."),
    ("ru", "звоните на 89123456789 или +7-912-345-67-89", "звоните на [phone] или [phone]"),
    ("ru", "Бесплатная линия 8-800-555-35-35 не отвечает.", "Бесплатная линия [phone] не отвечает."),
    ("ro", "Sunați-mă la +40 721 234 567, vă rog.", "Sunați-mă la [phone], vă rog."),
    ("ro", "Telefon: 0721 234 567 sau 0721-234-567 sau 0721.234.567.", "Telefon: [phone] sau [phone] sau [phone]."),
    ("ro", "Fix (021) 123 45 67, din străinătate 0040 721 234 567.", "Fix [phone], din străinătate [phone]."),
    ("ro", "Fratele meu din Berlin: +49 30 12345678.", "Fratele meu din Berlin: [phone]."),
    ("bg", "Обадете се на +359 88 123 4567 веднага.", "Обадете се на [phone] веднага."),
    ("bg", "Телефон: 0888 123 456 или 088 812 3456.", "Телефон: [phone] или [phone]."),
    ("bg", "Офисът в София: 02 987 6543, от чужбина +359 2 987 6543.", "Офисът в София: [phone], от чужбина [phone]."),
]
CARDS = [
    ("ru", "Списали с карты 2200 7001 2345 6781 дважды!", "Списали с карты [card] дважды!"),
    ("ru", "карта 4276380012345679, срок 12/27", "карта [card], срок 12/27"),
    ("ro", "Am plătit cu cardul 5413-3300-8909-9205 luni.", "Am plătit cu cardul [card] luni."),
    ("ro", "Cardul 4000 0000 0000 0002 12/26 a fost debitat.", "Cardul [card] 12/26 a fost debitat."),
    ("bg", "Картата ми 6762 1234 5678 9012 346 е блокирана.", "Картата ми [card] е блокирана."),
    ("bg", "Платих с American Express 3782 822463 10005.", "Платих с American Express [card]."),
]
IBANS = [
    ("ro", "Returnați banii în contul RO49 AAAA 1B31 0075 9384 0000.", "Returnați banii în contul [iban]."),
    ("ro", "IBAN: ro49aaaa1b31007593840000", "IBAN: [iban]"),
    ("bg", "Върнете парите по BG80 BNBG 9661 1020 3456 78, моля.", "Върнете парите по [iban], моля."),
    ("bg", "сметка BG80BNBG96611020345678 и BG80-BNBG-9661-1020-3456-78", "сметка [iban] и [iban]"),
    ("ru", "Верните на счёт DE89 3704 0044 0532 0130 00 в Германии.", "Верните на счёт [iban] в Германии."),
]
NOT_PERSONAL = [
    ("ru", "Заказ №48213 от 05.11.2024 на сумму 1 250,50 руб., курьер приехал в 10:30."),
    ("ru", "Трек-номер RR123456785RU, заказ 1234 5678 9012 3456, скидка 15%."),
    ("ro", "Comanda nr. 123456 din 2024-11-05, în valoare de 1.250 lei, livrare la 14:45."),
    ("ro", "Am sunat de 3 ori, am așteptat 2 săptămâni și am plătit 349,99 lei."),
    ("bg", "Поръчка 100234 от 12.03.2024, платих 3 500 лв. и чаках 20 дни."),
    ("bg", "Номер на пратката 80084512345678, код за отстъпка 2024."),
]


@pytest.mark.parametrize(("lang", "text", "masked"), EMAILS + PHONES + CARDS + IBANS)
def test_personal_data_is_masked_in_each_language(lang: str, text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(("lang", "text"), NOT_PERSONAL)
def test_order_numbers_amounts_and_dates_are_left_alone(lang: str, text: str) -> None:
    assert mask_pii(text) == text


def test_every_kind_in_one_text() -> None:
    text = (
        "Здравствуйте! Заказ 48213 от 05.11.2024. Карта 2200 7001 2345 6781, почта ivan@mail.ru, "
        "тел. +7 912 345-67-89, счёт RO49 AAAA 1B31 0075 9384 0000. Верните 1 250 руб."
    )
    assert mask_pii(text) == (
        "Здравствуйте! Заказ 48213 от 05.11.2024. Карта [card], почта [email], тел. [phone], счёт [iban]. "
        "Верните 1 250 руб."
    )


PERSONAL_TEXT = "Верните деньги на карту 2200 7001 2345 6781, звоните +7 (912) 345-67-89 или пишите ivan@mail.ru"
MASKED_TEXT = "Верните деньги на карту [card], звоните [phone] или пишите [email]"


def stored_ticket(client: TestClient, ticket_id: int) -> Ticket:
    with resources_of(client.app).database.session() as session:  # type: ignore[arg-type]
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


def test_the_service_stores_masked_text_but_classifies_the_original(
    service_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = resources_of(service_client.app).classifier.predictor  # type: ignore[arg-type]
    original = predictor.predict
    read: list[str] = []

    def spy(texts: Any) -> Any:
        read.extend(texts)
        return original(texts)

    monkeypatch.setattr(predictor, "predict", spy)
    key = new_key(service_client.app, "ingest")  # type: ignore[arg-type]
    response = service_client.post(
        "/v1/classify", json={"text": PERSONAL_TEXT, "subject": "Звонить на 8 912 345 67 89"}, headers=bearer(key)
    )
    assert response.status_code == 201, response.text
    assert read == [f"Звонить на 8 912 345 67 89\n{PERSONAL_TEXT}"]
    assert response.json()["text"] == f"Звонить на [phone]\n{MASKED_TEXT}"
    ticket = stored_ticket(service_client, response.json()["id"])
    assert ticket.text == f"Звонить на [phone]\n{MASKED_TEXT}" and ticket.subject == "Звонить на [phone]"

    batch = service_client.post("/v1/classify/batch", json={"items": [{"text": PERSONAL_TEXT}]}, headers=bearer(key))
    assert stored_ticket(service_client, batch.json()["items"][0]["id"]).text == MASKED_TEXT


def test_webhook_texts_are_stored_masked(service_client: TestClient) -> None:
    payload = {
        "ticket": {"id": 9001, "title": "Обадете се на 0888 123 456"},
        "article": {
            "body": "<p>Сметка BG80 BNBG 9661 1020 3456 78</p><p>Пишете на g.ivanov@abv.bg</p>",
            "content_type": "text/html",
        },
    }
    response = deliver(service_client, "zammad", payload)
    assert response.status_code == 200, response.text
    ticket = stored_ticket(service_client, response.json()["ticket_id"])
    assert ticket.subject == "Обадете се на [phone]"
    assert ticket.text == "Обадете се на [phone]\nСметка [iban]\nПишете на [email]"


def test_store_raw_text_keeps_the_text_as_received(service_model: ServiceModel, tmp_path: Path) -> None:
    settings = service_settings(service_model, tmp_path, store_raw_text=True)
    with TestClient(create_app(settings)) as client:
        key = new_key(client.app, "ingest")  # type: ignore[arg-type]
        response = client.post("/v1/classify", json={"text": PERSONAL_TEXT}, headers=bearer(key))
        assert response.status_code == 201 and response.json()["text"] == PERSONAL_TEXT
        assert stored_ticket(client, response.json()["id"]).text == PERSONAL_TEXT


def test_exported_feedback_carries_the_masked_text(
    service_client: TestClient, tmp_path: Path, cli_on_app_database: None
) -> None:
    app: Any = service_client.app
    ingest, reviewer = new_key(app, "ingest"), new_key(app, "reviewer")
    text = "Поръчката не пристигна, върнете парите по BG80 BNBG 9661 1020 3456 78, тел. 0888 123 456"
    ticket = service_client.post("/v1/classify", json={"text": text}, headers=bearer(ingest)).json()
    review = service_client.post(
        f"/v1/tickets/{ticket['id']}/feedback", json={"verdict": "correct", "lang": "bg"}, headers=bearer(reviewer)
    )
    assert review.status_code == 201, review.text
    exported = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(cli, ["export-feedback", "--output", str(exported)])
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in map(json.loads, exported.read_text(encoding="utf-8").splitlines())}
    assert records[f"feedback-{ticket['id']}"]["text"] == (
        "Поръчката не пристигна, върнете парите по [iban], тел. [phone]"
    )
    assert "0888" not in exported.read_text(encoding="utf-8") and "BNBG" not in exported.read_text(encoding="utf-8")
