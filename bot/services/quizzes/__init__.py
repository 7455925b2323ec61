"""Knowledge quizzes: ``building`` (questions typed in chat or from CSV, creating a quiz),
``playing`` (joining, server-timed answers, one attempt), ``boards`` (leaderboards after
each live question, results), ``notices`` (questions, leaderboards and results as intents).
"""
