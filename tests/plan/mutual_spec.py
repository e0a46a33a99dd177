"""A spec whose entities each hold a list of the other: its plan has a cycle."""

MUTUAL = """# Mutual

## Entities

### Author
- name: string, required
- favourite: Book, optional
- fans: list of Book

### Book
- title: string, required
- author: Author, optional
- admirers: list of Author

## Endpoints
- A1. CRUD /authors
- B1. CRUD /books
"""
