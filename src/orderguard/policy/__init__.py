"""Authorization (Cedar), separation-of-duties conflict sets, the role directory and policy tests.

Import submodules directly (``orderguard.policy.authorizer``); this package stays light so the
firm loader can use ``orderguard.policy.sod`` without loading Cedar.
"""
