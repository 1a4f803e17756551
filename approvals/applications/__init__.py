"""Applications (办件) as the applicant makes them: drafts, materials, submission, withdrawal, 补正, tracking."""
