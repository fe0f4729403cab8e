"""The web page's words in the manager's language (ru, ro, bg, en); remedy titles come from the playbook."""

from __future__ import annotations

UI_LANGUAGES: tuple[str, ...] = ("en", "ru", "ro", "bg")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "ro": "Română", "bg": "Български"}

_WORDS: dict[str, tuple[str, str, str, str]] = {
    # key: (en, ru, ro, bg)
    "title": ("Complaint triage", "Разбор жалоб", "Triajul reclamațiilor", "Разпределяне на оплаквания"),
    "inbox": ("Inbox", "Входящие", "Mesaje primite", "Входящи"),
    "logout": ("Log out", "Выйти", "Ieșire", "Изход"),
    "login": ("Log in", "Войти", "Autentificare", "Вход"),
    "api_key": ("API key", "API-ключ", "Cheie API", "API ключ"),
    "login_hint": (
        "A reviewer or manager key (triage keys create).",
        "Ключ рецензента или менеджера (triage keys create).",
        "O cheie de evaluator sau manager (triage keys create).",
        "Ключ на проверяващ или мениджър (triage keys create).",
    ),
    "bad_key": ("Unknown or revoked key.", "Неизвестный или отозванный ключ.", "Cheie necunoscută sau revocată.",
                "Непознат или отменен ключ."),
    "wrong_role": ("This key may not use the page.", "Этот ключ не даёт доступа к странице.",
                   "Această cheie nu are acces la pagină.", "Този ключ няма достъп до страницата."),
    "language": ("Language", "Язык", "Limba", "Език"),
    "any": ("any", "все", "oricare", "всички"),
    "label": ("Label", "Метка", "Etichetă", "Етикет"),
    "abuse": ("Abuse risk", "Риск злоупотребления", "Risc de abuz", "Риск от злоупотреба"),
    "yes": ("yes", "да", "da", "да"),
    "no": ("no", "нет", "nu", "не"),
    "needs_review": ("Needs review", "Нужна проверка", "De verificat", "За проверка"),
    "since": ("From", "С", "De la", "От"),
    "until": ("Before", "До", "Până la", "До"),
    "apply": ("Apply", "Применить", "Aplică", "Приложи"),
    "received": ("Received", "Получено", "Primit", "Получено"),
    "text": ("Text", "Текст", "Text", "Текст"),
    "tags": ("Tags", "Теги", "Etichete", "Тагове"),
    "suggested": ("Suggested actions", "Рекомендуемые действия", "Acțiuni sugerate", "Препоръчани действия"),
    "no_tickets": ("No tickets.", "Нет обращений.", "Niciun tichet.", "Няма запитвания."),
    "previous": ("Previous", "Назад", "Înapoi", "Назад"),
    "next": ("Next", "Далее", "Înainte", "Напред"),
    "chart": ("Costs and abuse risk per day", "Издержки и риск злоупотребления по дням",
              "Costuri și risc de abuz pe zile", "Разходи и риск от злоупотреба по дни"),
    "ticket": ("Ticket", "Обращение", "Tichet", "Запитване"),
    "probability": ("Probability", "Вероятность", "Probabilitate", "Вероятност"),
    "confidence": ("Confidence", "Уверенность", "Încredere", "Увереност"),
    "model_says": ("Model", "Модель", "Model", "Модел"),
    "final": ("Final", "Итог", "Final", "Окончателно"),
    "confirm": ("Confirm labels", "Подтвердить метки", "Confirmă etichetele", "Потвърди етикетите"),
    "correct": ("Save correction", "Сохранить исправление", "Salvează corectura", "Запази корекцията"),
    "keep": ("keep", "оставить", "păstrează", "запази"),
    "reviews": ("Reviews", "Проверки", "Verificări", "Проверки"),
    "saved": ("Feedback saved.", "Отзыв сохранён.", "Feedback salvat.", "Обратната връзка е запазена."),
    "mode": ("Mode", "Режим", "Mod", "Режим"),
    "budget": ("Compensation budget", "Бюджет компенсации", "Buget de compensare", "Бюджет за компенсация"),
    "wording": ("Wording for the customer", "Текст для клиента", "Formulare pentru client", "Текст за клиента"),
    "why": ("Why", "Почему", "De ce", "Защо"),
    "model_version": ("Model version", "Версия модели", "Versiunea modelului", "Версия на модела"),
    "economic": ("Economic", "Деньги", "Economic", "Пари"),
    "time": ("Time", "Время", "Timp", "Време"),
    "social": ("Social", "Репутация", "Social", "Репутация"),
    "emotional": ("Emotional", "Эмоции", "Emoțional", "Емоции"),
    "abuse_risk": ("Abuse risk", "Риск злоупотребления", "Risc de abuz", "Риск от злоупотреба"),
    "churn": ("Churn", "Уход клиента", "Pierderea clientului", "Отлив на клиента"),
    "is_complaint": ("Complaint", "Жалоба", "Reclamație", "Оплакване"),
}  # fmt: skip


def words(lang: str) -> dict[str, str]:
    """Every word of the page in `lang` (English for an unknown language)."""
    index = UI_LANGUAGES.index(lang) if lang in UI_LANGUAGES else 0
    return {key: texts[index] for key, texts in _WORDS.items()}
